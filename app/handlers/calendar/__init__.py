"""The working-day calendar as operators and admins change it: overrides, the yearly notice, readiness.

- ``overrides``: one day declared a working day or a day off (``linli calendar set/unset``);
- ``notice_import``: the State Council's notice read (app/calendar_notice.py), previewed and
  applied as that year's overrides in one transaction (``linli calendar import``, the admin API);
- ``readiness``: whether this year's and, from 1 November, next year's calendar is loaded
  (``/healthz``, the weekly alert to community admins).

The calculator itself is app/workcal.py (L1); the statutory days are app/holidays.py.
"""
