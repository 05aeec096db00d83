"""The structure of the understanding: how the cues of a message combine into intent scores,
a confidence and a report category (the weights live in the data files)."""
from __future__ import annotations

import math

from app.bot.model import CAT_MAX_OFFSET, CAT_OFFSET, CUE_INDEX, N_CATS, SERVICE_INTENTS
from app.bot.types import CATEGORIES, INTENTS


def top_values(scores: dict[str, float]) -> tuple[str, float, float]:
    """The best intent (ties: the first), its score and the runner-up's score, which may be
    below 0 (the decision counts it from 0; the n-gram gate does not). The scores are in the
    order of INTENTS, as ``intent_scores`` makes them."""
    best, s1, s2 = "none", -1.0, -1.0
    for intent, value in scores.items():
        if value > s1:
            best, s1, s2 = intent, value, s1
        elif value > s2:
            s2 = value
    return best, s1, s2


def runner_up(scores: dict[str, float], best: str) -> str:
    """The second-best intent (ties: the order of INTENTS)."""
    second, value = "none", -1.0
    for intent in INTENTS:
        if intent != best and scores[intent] > value:
            second, value = intent, scores[intent]
    return second


def confidence_of(s1: float, s2: float) -> float:
    if s1 <= 0:
        return 0.0
    return (1.0 - math.exp(-s1 / 2.0)) * (s1 / (s1 + (0.0 if 0.0 > s2 else s2)))   # max(s2, 0.0), inline


def category_scores(f: list[float]) -> list[float]:
    """Per category: its strongest word plus half of the others (two weak hints < one clear word)."""
    totals = f[CAT_OFFSET:CAT_MAX_OFFSET]
    tops = f[CAT_MAX_OFFSET:]
    return [top + 0.5 * (total - top) if total else 0.0 for total, top in zip(totals, tops, strict=True)]


_ACK = CUE_INDEX["ack"]
_AD = CUE_INDEX["ad"]
_BOOK = CUE_INDEX["book"]
_CANCEL = CUE_INDEX["cancel"]
_CHATTER = CUE_INDEX["chatter"]
_EVENT = CUE_INDEX["event"]
_FORWARD = CUE_INDEX["forward"]
FRAME = CUE_INDEX["frame"]
FRAME_ADDRESSED = 1.5
PROMISE_DECIDES = 2.0    # a broken promise is a follow-up, whatever the problem it names
FOR_SERVICE_SCORE = 1.5   # an unclear message whose runner-up service intent scores this much is for the service
FAQ_SURE = 0.6     # below this confidence an ask_info guess is checked against the FAQ ...
FAQ_BONUS = 1.5    # ... and an answer found there raises it
_GREET = CUE_INDEX["greet"]
_HUMAN = CUE_INDEX["human"]
_INFO = CUE_INDEX["info"]
_NEIGHBOUR = CUE_INDEX["neighbour"]
_ORG = CUE_INDEX["org"]
_OWN_REF = CUE_INDEX["own_ref"]
_PLACE = CUE_INDEX["place"]
_PLAN = CUE_INDEX["plan"]
_PROBLEM = CUE_INDEX["problem"]
_PROGRESS = CUE_INDEX["progress"]
_QUESTION = CUE_INDEX["question"]
_RATE_MID = CUE_INDEX["rate_mid"]
_RATE_NEG = CUE_INDEX["rate_neg"]
_RATE_POS = CUE_INDEX["rate_pos"]
_RATE_WORD = CUE_INDEX["rate_word"]
_REPORT = CUE_INDEX["report"]
_RESOLVED = CUE_INDEX["resolved"]
_SERVICE = CUE_INDEX["service"]
_SIGNUP = CUE_INDEX["signup"]
_THANKS = CUE_INDEX["thanks"]
_URGENCY = CUE_INDEX["urgency"]
_WANT = CUE_INDEX["want"]
_WHEN = CUE_INDEX["when"]
_PROMISE = CUE_INDEX["promise"]
_OVERDUE = CUE_INDEX["overdue"]
_RESCHEDULE = CUE_INDEX["reschedule"]
_EMERGENCY = CUE_INDEX["emergency"]
EMERGENCY_SCORE = 2.0     # the `emergency` cues (a person trapped, fire, gas ...) that make it one
THANKS_GREET_ACK = (("thanks", _THANKS), ("greet", _GREET), ("ack", _ACK))


def is_emergency(f: list[float]) -> bool:
    """Danger now ("电梯困人了", "楼道一股煤气味"): the deadline class emergency, not the category's."""
    return f[_EMERGENCY] >= EMERGENCY_SCORE


def broken_promise(f: list[float]) -> bool:
    """"说三天修好，今天第五天了": a promised date or time recalled, and it has passed (or the
    problem is still there). A follow-up, and a complaint: a person must answer it."""
    return bool(f[_PROMISE]) and bool(f[_OVERDUE] or f[_PROBLEM] or f[_PROGRESS] or f[_QUESTION])


def intent_scores(f: list[float], facts: dict, has_service: bool, has_event: bool, length: int,
                  cats: list[float] | None = None) -> dict[str, float]:
    """The structure of the understanding: how cues combine into intents (``cats``: the
    category scores of ``f`` when the caller has them already)."""
    # Caps (inline rather than min(): this runs for every message).
    report = f[_REPORT]
    if report > 6.0:
        report = 6.0
    problem = f[_PROBLEM]
    if problem > 6.0:
        problem = 6.0
    urgency = f[_URGENCY]
    if urgency > 2.0:
        urgency = 2.0
    place = f[_PLACE]
    if place > 2.0:
        place = 2.0
    book = f[_BOOK]
    if book > 6.0:
        book = 6.0
    want = f[_WANT]
    if want > 2.0:
        want = 2.0
    when = f[_WHEN]
    if when > 2.0:
        when = 2.0
    service = f[_SERVICE] + (2.0 if has_service else 0.0)
    if service > 4.0:
        service = 4.0
    signup = f[_SIGNUP]
    if signup > 6.0:
        signup = 6.0
    event = f[_EVENT] + (2.0 if has_event else 0.0)
    if event > 4.0:
        event = 4.0
    progress = f[_PROGRESS]
    if progress > 6.0:
        progress = 6.0
    own_ref = f[_OWN_REF]
    if own_ref > 4.0:
        own_ref = 4.0
    cancel = f[_CANCEL]
    if cancel > 6.0:
        cancel = 6.0
    question = f[_QUESTION]
    if question > 3.0:
        question = 3.0
    info = f[_INFO]
    if info > 4.0:
        info = 4.0
    org = f[_ORG]
    if org > 2.0:
        org = 2.0
    plan = f[_PLAN]
    if plan > 4.0:
        plan = 4.0
    rate = f[_RATE_POS]
    if f[_RATE_MID] > rate:
        rate = f[_RATE_MID]
    if f[_RATE_NEG] > rate:
        rate = f[_RATE_NEG]
    rate += f[_RATE_WORD] if f[_RATE_WORD] < 2.0 else 2.0
    human = f[_HUMAN]
    if human > 6.0:
        human = 6.0
    ack = f[_ACK] if length <= 8 else 0.5 * f[_ACK]   # "好的" alone is an answer; "好热闹" is not
    chit = f[_GREET] + f[_THANKS] + ack
    if chit > 6.0:
        chit = 6.0
    resolved = f[_RESOLVED]
    if resolved > 4.0:
        resolved = 4.0
    frame = f[FRAME]
    if frame > 3.0:
        frame = 3.0
    noise_words = f[_CHATTER] + f[_NEIGHBOUR]
    if noise_words > 6.0:
        noise_words = 6.0
    ad = f[_AD] + f[_FORWARD]
    if ad > 8.0:
        ad = 8.0
    if cats is None:
        cats = category_scores(f)
    best_cat = cats[0]   # max(cats), inline like the caps
    for value in cats:
        if value > best_cat:
            best_cat = value
    topic = best_cat + 0.3 * (sum(cats) - best_cat)
    if not topic < 4.0:   # a cap of 4 (as min(), but inline)
        topic = 4.0

    s: dict[str, float] = {}
    # A report: a complaint word or a problem, about a thing the community looks after;
    # or a nuisance named on its own ("楼下饭店油烟直接排到我家窗户").
    if report or problem:
        r = report + problem + 0.6 * topic + (0.5 * urgency if (problem or topic >= 1.5) else 0.0)
    else:
        r = 0.45 * topic + (0.5 * urgency if topic >= 2 else 0.0)
    if frame and (problem or topic >= 1.5):
        # "来电人称小区热水供应中断已三天": the hotline frame states a problem, so it is a report;
        # the frame alone ("来电人咨询…", "来电人要求回电") says nothing about what is wanted.
        r += 0.5 * frame
    if topic:
        r += 0.3 * place
    if question and not (report or problem):
        r *= 0.4          # "小区的充电桩在哪里": a question about a facility, not a complaint
    r -= 1.5 * resolved + 1.5 * plan
    promised = broken_promise(f)
    follow_up = promised or (own_ref and (progress or question or (own_ref >= 2.5 and problem)))
    if follow_up:
        r *= 0.4          # "我报的漏水修了没有", "我反映的漏水到现在都没人来看": about an existing report
    if rate >= 3 and not report:
        r *= 0.6          # "不太满意，灯还是一闪一闪的": the rating explains itself
    if not topic and not report:
        r *= 0.6          # "我家电脑开不了机": a problem, but nothing the community looks after
    elif not topic and not problem and (service or book >= 2 or signup >= 2):
        r *= 0.6          # "希望社区派人上门帮其母亲办理高龄津贴认证": asking for a service, not a complaint
    s["report_issue"] = r

    reschedule = f[_RESCHEDULE]
    if reschedule > 4.0:
        reschedule = 4.0
    b = book + reschedule   # "改到周五": moving a booking is the booking handler's business
    if want >= 1 and service:
        b += 1.5
    if book:
        b += 0.5 * min(service, 2.0)
    if service and when and (book or want or question):
        b += 1.0          # an item and a day: wants a slot
    elif book and when:
        b += 0.8          # "约明天下午两点"
    if question and not book:
        b *= 0.5
    s["book_proxy"] = b

    g = signup
    if signup:
        if event:
            g += 0.8 * min(event, 2.0) + (0.5 if when else 0.0)
        elif signup < 4:
            g *= 0.5      # "我想去公园": joining, but nothing the community organises
    elif want >= 1 and event:
        g += 0.8
    s["event_signup"] = g

    p = progress
    if promised:
        # The promise decides: what it was about ("说两天就来修") is no new request.
        overdue = f[_OVERDUE]
        p += f[_PROMISE] + (overdue if overdue < 3.0 else 3.0) + PROMISE_DECIDES
    if own_ref:
        p += own_ref if follow_up else 0.4 * own_ref
    elif progress < 3 and not promised:
        p *= 0.5          # "路灯什么时候能修" without "my ...": a complaint or a general question
    if rate >= 3:
        p *= 0.5          # "不满意，到现在还是没修": a rating that says why
    s["query_progress"] = p

    c = cancel
    if cancel and (book or signup or event or service or own_ref):
        c += 1.0
    moving = reschedule and cancel < 3
    if moving:
        c *= 0.3          # "我去不了了，换到下周三行不行": the reason for moving, not a cancellation
    s["cancel"] = c       # (but "我想改时间，先取消吧" cancels: 取消 is decisive)
    if cancel >= 2 and not moving:
        s["event_signup"] *= 0.4    # "取消报名", "退掉我的活动报名"
        s["book_proxy"] *= 0.4
    own_item = own_ref >= 2 and (progress or question)
    if own_item:
        s["event_signup"] *= 0.5    # "我报名的义诊成功了吗": about an existing signup
        s["book_proxy"] *= 0.5

    a = 0.0
    if question or plan:
        topical = info + plan + 0.8 * service + 0.6 * org + 0.6 * event + 0.5 * min(topic, 2.0)
        if topical:
            a = 0.6 * question + topical
    elif service and not (book or signup or cancel or progress or problem):
        a = 0.8 * service + 0.5 * info     # a bare "尊老金": what about it? tell them
    elif info >= 1.5 and (org or service):
        a = 0.5 * info + 0.5 * org + 0.5 * service
    if (signup >= 2.5 and event) or book >= 2 or reschedule >= 2:
        a *= 0.5          # "义诊我想去，需要带什么吗": the request comes first, the question with it
    if own_item and p >= 3:
        a *= 0.5          # "之前登记的老年卡可以领了吗": about their own application
    s["ask_info"] = a

    s["rate"] = rate
    s["human"] = human
    s["chitchat"] = chit
    nz = noise_words + ad
    if length > 200:
        nz += min(3.0, (length - 200) / 100.0)
    s["none"] = nz

    # Advertisements and forwarded articles mention drains and locks too.
    if ad >= 2.0:
        for key in SERVICE_INTENTS:
            s[key] *= 0.5
    # Thanks and greetings are politeness around a request, not a competing intent.
    strongest_service = s["report_issue"]   # max() of the service intents and rate, human (inline)
    for key in STRONGEST_OF:
        if s[key] > strongest_service:
            strongest_service = s[key]
    if strongest_service >= 2.0:
        s["chitchat"] *= 0.4
        s["none"] *= 0.6
    if resolved and chit and rate < 3:
        s["chitchat"] += resolved   # "修好了，谢谢": thanks (but "修好了，很满意" rates the work)
    return s


STRONGEST_OF = ("book_proxy", "event_signup", "query_progress", "cancel", "ask_info", "rate", "human")


def add_ngram_evidence(scores: dict[str, float], posterior: list[float], weight: float) -> None:
    """The learned character n-grams vote like one more cue: P(intent | n-grams) × weight."""
    for intent, p in zip(INTENTS, posterior, strict=True):
        scores[intent] += weight * p


def ngrams_can_decide(scores: dict[str, float], weight: float, threshold: float) -> bool:
    """Could the n-grams, adding at most ``weight`` to one intent, change what the words
    decide? Not when the best intent leads by ``weight`` or more and would stay above the
    threshold even if the runner-up got all of it: then they are not consulted (cheaper, and
    the decision is the same)."""
    _best, s1, s2 = top_values(scores)
    return can_change(s1, s2, weight, threshold)


def can_change(s1: float, s2: float, weight: float, threshold: float) -> bool:
    """``ngrams_can_decide`` from the best score and the runner-up's (``top_values``)."""
    return s1 - s2 < weight or confidence_of(s1, s2 + weight) < threshold


def category_open(cats: list[float], weight: float) -> bool:
    """Could P(category | n-grams) × weight change the category the words give?"""
    ordered = sorted(cats, reverse=True)
    return ordered[0] < CATEGORY_FLOOR or ordered[0] - ordered[1] < weight


CATEGORY_FLOOR = 1.0   # below this the words name no category: "other"


def names_a_problem(f: list[float], cats: list[float]) -> bool:
    """Does the text say anything a report category can be read from: a complaint or problem
    word, or a category word? Without one ("你好", "今天天气不错", "3号楼") the n-grams are
    not asked for a category: their vote on chatter is noise, not evidence."""
    return f[_REPORT] > 0 or f[_PROBLEM] > 0 or max(cats) > 0


def category(cats: list[float]) -> str:
    """The best category of the scores (``category_scores``, plus any n-gram evidence)."""
    best = 0   # the first of the highest, like max()
    for i in range(1, N_CATS):
        if cats[i] > cats[best]:
            best = i
    if cats[best] < CATEGORY_FLOOR:
        return "other"
    return CATEGORIES[best]


def report_category(model, text: str, cats: list[float], grams: int | None,
                    chars: set[str] | None = None) -> tuple[str, list[float]]:
    """The report's category and the scores it was chosen on: the words (``cats``:
    ``category_scores``), and the n-grams of the ``model`` when they could change it (the words
    name no category, or the best leads by less than the n-gram weight)."""
    weight = model.ngram_category_weight
    if weight and model.ngrams and category_open(cats, weight):
        if grams is None:
            grams = model.ngrams.vote(text, chars)
        if grams:
            cats = [c + weight * p for c, p in zip(cats, model.ngrams.category_posterior(grams), strict=True)]
    return category(cats), cats
