"""Co-governance in the mini-program API: the three lists, projects, 议事, the service map, 百姓说事.

Staff see and change only their own community (anything else is 404); a role that may
not do an action gets 403. Street admins read the report and the workbook of the
communities of their street. Residents propose topics and suggestions, vote, ask the
map, and — when registered as 双报到 members — claim needs and offer resources.
See docs/governance.md.
"""
from app.api.governance import lists, projects, residents, servicemap, suggestions, topics  # noqa: F401 - routes

__all__ = ["lists", "projects", "residents", "servicemap", "suggestions", "topics"]
