"""connections-api: the REST API of Rita connections."""
