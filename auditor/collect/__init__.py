"""Collect: read a tenant through the Azure SDK and hand back our own model types.

Only this package imports `azure.*`.
"""
