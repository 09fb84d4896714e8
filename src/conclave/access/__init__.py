"""Roles, permissions and JWT access tokens."""
