"""Classify: decide each resource's platform policy and verdict from the rule table."""
