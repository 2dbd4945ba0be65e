-- itsm-sync keeps its own database beside Rita's.
CREATE DATABASE itsm_sync;
