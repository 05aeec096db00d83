"""The organisation: staff and their invites, API tokens, importing streets to groups from spreadsheets."""
