"""`peerguard report`: from log directories to the study's tables, plots and a shareable report."""
