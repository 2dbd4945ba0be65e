"""rita-ops: the operator's command line against the real servers (see README, 'Runbook')."""
