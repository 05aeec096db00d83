"""Events and volunteers: community events with sign-ups, a waiting list, reminders and
check-in, and the volunteer side (双报到 registry, hours, the yearly report, micro-wishes).

Import the module you need (``from app.handlers.events import signups``); this package
re-exports nothing. The modules, each depending only on those listed before it:

    errors      EventError (a DomainError) and refusal()
    text        how times read: format_when, format_deadline, recurrence_text
    capacity    the EventCapacity counter and its lock; places, tickets, promotion
    audience    membership() and check_audience(): who may join
    notices     where a sign-up's notices go, notify(), the group announcement
    reminders   the reminder job (jobs "events.remind", id event-remind-<id>) and closing ended events
    series      weekly series: materialising occurrences ahead
    lifecycle   create, update, publish, cancel
    signups     signup_for (check, take a place or a ticket, record) and cancel_signup
    views       JSON views and upcoming_events
    matching    reading chat text: which event, which date, yes/no/number
    chat        the bot's event_signup conversation; exports CHAT
    volunteers  the member registry and volunteer projects
    hours       check-in and admin hours, a member's year
    checkin     check-in/check-out codes and scans (credits hours: the one edge from events to volunteers)
    report      the community's yearly report and its .xlsx export
    wishes      micro-wishes (微心愿)
    demo        demo data for `linli seed-demo`

Departures from the plan in docs/architecture.md: ``series`` is apart from ``lifecycle``
(occurrences are created by the sweep and the demo too, which need no lifecycle), and the
volunteer half is cut registry / hours / report rather than one 300-line module, so the
check-out → hours edge points at the small module that credits hours.
"""
