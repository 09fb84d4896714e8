"""The meeting page: the browser client people open at ``/meet/<room>`` (docs/meeting-page.md)."""
