"""The HTTP API under /api/v1: holder, registry inbox, organisation and DPO routes."""
