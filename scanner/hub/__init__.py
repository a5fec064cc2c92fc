"""The central hub: receives flagged scans from devices and publishes signed brand-index updates."""
