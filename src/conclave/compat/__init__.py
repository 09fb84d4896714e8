"""Drop-in compatible vendor surfaces: translation layers onto the native services."""
