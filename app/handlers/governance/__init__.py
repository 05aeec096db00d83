"""Co-governance (共建共治): the three lists, 四方五步议事 with the online tea house, the service map, 百姓说事.

- units.py, resources.py: partner units and the resource list (资源清单);
- needs.py, hotspots.py: the need list (需求清单), promoted from recurring requests or micro-wishes;
- claims.py: 双向认领 (a unit/member claims a need; the community assigns a resource);
- matching.py: the resources that fit a need, explained;
- projects.py, contributions.py: the project list (项目清单), progress, counted hours and items;
- report.py, export.py: the year's figures and the workbook a street office reports upward;
- deliberation.py, tasks.py, votes.py, topic_views.py: topics through the five steps, the tea-house vote;
- stations.py, nearby.py, geo.py: the service map (红色地图) and the nearest open stations;
- suggestions.py: 百姓说事; chat.py: CHAT (votes, opinions, suggestions, 附近哪里可以… in chat);
- demo.py: the demo community's lists, projects, topics and map.

Requests, micro-wishes and proxy cases belong to other domains: this one reads their
rows by id (``app.models``) and never changes them. See docs/governance.md.
"""
from app.handlers.governance.errors import GovernanceError, refuse

__all__ = ["GovernanceError", "refuse"]
