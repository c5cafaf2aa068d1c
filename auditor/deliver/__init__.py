"""Deliver the reports beyond the local folder: to an Azure Blob Storage container (`--upload`)."""
