"""Response schemas of the profile and the community and building pickers: one component per view of
app/handlers/org/profile.py (app/api/openapi.py explains the declarations)."""
from __future__ import annotations

from app.api.openapi import component, listing, nullable, obj
from app.api.schemas.common import INT, INT_N, STR, STR_N

COMMUNITY = component("Community", obj({"id": INT, "name": STR, "street": STR_N, "address": STR_N}))
BUILDING = component("Building", obj({"id": INT, "number": STR, "name": STR, "compound": STR_N, "units": INT_N}))
# profile_view: the resident's own, unmasked.
PROFILE = component("Profile", obj({
    "id": INT, "name": STR_N, "nickname": STR_N, "phone": STR_N, "community_id": INT_N,
    "community": nullable(COMMUNITY), "building_id": INT_N, "building": nullable(BUILDING), "unit": STR_N,
    "room": STR_N, "complete": {"type": "boolean", "description": "name, phone and community are all set"}}))
COMMUNITIES = listing(COMMUNITY)
BUILDINGS = listing(BUILDING)
