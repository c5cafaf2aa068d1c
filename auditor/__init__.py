"""port25-audit: what Azure does to outbound SMTP (TCP 25) for every resource of a tenant."""

__version__ = "0.1.0"
