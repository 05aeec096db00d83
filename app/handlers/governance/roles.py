"""Who may do what in co-governance: one truth for the API and the console pages (docs/governance.md §5)."""
from __future__ import annotations

from app.models import Role

# Everyone working in the community sees the lists, the projects, the topics and the map.
VIEWERS = (Role.COMMUNITY_ADMIN.value, Role.DUTY.value, Role.GRID_LEADER.value, Role.GRID_WORKER.value)
# The lists, projects and the map are kept by the community's admins, the duty team (两委) and grid leaders.
EDITORS = (Role.COMMUNITY_ADMIN.value, Role.DUTY.value, Role.GRID_LEADER.value)
# Grid workers also bring needs and suggestions from their rounds (每日巡、经常访).
COLLECTORS = EDITORS + (Role.GRID_WORKER.value,)
# 议事 is run by the community committee: admins and the duty team (两委 members).
COMMITTEE = (Role.COMMUNITY_ADMIN.value, Role.DUTY.value)
