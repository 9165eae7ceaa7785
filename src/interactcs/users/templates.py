"""Utterance templates of the offline customer (the project's own wording).

Usage::

    from interactcs.users.templates import say, tone_of, Slots
    text = say("opening", tone_of(category=2), rng, slots)

Templates are grouped by *intent* (what the customer does this turn) and *tone*: ``rough``
(categories 1-2: terse, hostile), ``plain`` (3) and ``kind`` (4-5: polite, warm). Slots:
``{item}`` (a food item of the order), ``{merchant}``, ``{problem}`` (the complaint said
casually), ``{mins}``. Evidence pictures are rendered as ``[Sent Picture: …]``; a *strong*
picture clearly shows the fault, a *weak* one does not (blurry, nothing visible), so an agent
reading the description can judge it. Details from a customer whose complaint does not hold
up are hedged ("I guess", "not sure"): another cue for a careful agent.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

ROUGH, PLAIN, KIND = "rough", "plain", "kind"


def tone_of(category: int) -> str:
    """Tone used by a cooperation category (1-2 rough, 3 plain, 4-5 kind)."""
    return ROUGH if category <= 2 else PLAIN if category == 3 else KIND


@dataclass(slots=True)
class Slots:
    """Values filled into templates."""

    item: str
    merchant: str
    problem: str
    mins: int = 45

    def as_dict(self) -> dict[str, object]:
        return {
            "item": self.item,
            "merchant": self.merchant,
            "problem": self.problem,
            "mins": self.mins,
        }


#: complaint key -> casual phrases completing "the {item} ..."
PROBLEMS: dict[str, tuple[str, ...]] = {
    "temperature": ("was stone cold", "arrived cold", "was cold when it got here"),
    "taste": ("tasted awful", "tasted really off", "didn't taste right at all"),
    "not_fresh": ("wasn't fresh", "seemed undercooked", "smelled off"),
    "missing_item": ("was missing from the bag", "never showed up in the bag", "was missing"),
    "wrong_item": ("was the wrong thing", "wasn't what I ordered", "came as something else"),
    "late_delivery": (
        "came really late",
        "took forever to arrive",
        "showed up way past the estimate",
    ),
}

#: complaint key -> (strong picture descriptions, weak picture descriptions)
PICTURES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "temperature": (
        (
            "the {item} looking congealed and flat, no steam at all",
            "the {item} next to the receipt, cold and set solid on top",
        ),
        (
            "a blurry photo of the {item}, hard to tell anything",
            "the {item} on a plate, nothing unusual visible",
        ),
    ),
    "taste": (
        (
            "the {item} visibly burnt and blackened",
            "a close-up of the {item}, discoloured and separated",
        ),
        ("a half-eaten {item}, looks normal", "a blurry close-up of the {item}"),
    ),
    "not_fresh": (
        (
            "the {item} close up, raw and pink inside",
            "the {item} with a grey, slimy patch",
        ),
        ("a dark photo of the {item}, hard to see", "the {item} in its box, looks normal"),
    ),
    "missing_item": (
        (
            "the receipt listing the {item} beside the opened bag without it",
            "everything from the bag laid out, the {item} is clearly not there",
        ),
        ("an open bag, partly out of frame", "a photo of the bag, contents unclear"),
    ),
    "wrong_item": (
        (
            "a different dish in a box labelled {item}",
            "the sticker says {item} but the box holds something else",
        ),
        ("a box of food, label not readable", "a blurry box, hard to tell what it is"),
    ),
    "late_delivery": (
        (
            "the app screen showing delivery {mins} minutes after the estimate",
            "the order tracker with the estimate and the real arrival {mins} minutes apart",
        ),
        ("a screenshot of the order page, times cut off", "a cropped screenshot, no times visible"),
    ),
}

#: complaint key -> (specific details of a real fault, hedged details of a doubtful one)
DETAILS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "temperature": (
        (
            "It came {mins} minutes late and the {item} was cold all the way through.",
            "No steam at all, the {item} was cold right through.",
        ),
        (
            "It was lukewarm I guess, not really hot.",
            "Kind of cold, maybe, I didn't check right away.",
        ),
    ),
    "taste": (
        (
            "The {item} tasted burnt and bitter, nothing like usual.",
            "The {item} tasted sour, like it had turned.",
        ),
        (
            "It just wasn't great, I guess. Hard to say what.",
            "Not sure, it tasted a bit different maybe.",
        ),
    ),
    "not_fresh": (
        (
            "The {item} was raw in the middle and smelled off.",
            "The {item} looked and smelled days old.",
        ),
        ("It looked a bit old maybe, I'm not sure.", "I think it was kind of off? Hard to say."),
    ),
    "missing_item": (
        (
            "The receipt lists the {item} but it wasn't in the bag.",
            "Everything else came, just no {item}.",
        ),
        (
            "I think something was missing, maybe the {item}.",
            "Not sure, the bag looked a bit light I guess.",
        ),
    ),
    "wrong_item": (
        (
            "I got a different dish in a box labelled {item}.",
            "It was chicken instead of the {item} I ordered.",
        ),
        (
            "It looked a bit different from usual, I guess.",
            "Maybe it was the wrong one, I'm not sure.",
        ),
    ),
    "late_delivery": (
        (
            "It was {mins} minutes past the estimate when it finally came.",
            "The app said 30 minutes and it took well over an hour.",
        ),
        (
            "It felt late, I didn't check the time exactly.",
            "Took a while, I guess. Not sure how long.",
        ),
    ),
}

_T = dict[str, tuple[str, ...]]

#: intent -> tone -> templates
TEMPLATES: dict[str, _T] = {
    "opening": {
        ROUGH: (
            "The {item} from {merchant} {problem}. Fix it.",
            "What is this? My {item} {problem}.",
            "Your delivery is a joke. The {item} {problem}.",
            "{merchant} order. The {item} {problem}.",
        ),
        PLAIN: (
            "Hi, I ordered from {merchant} and the {item} {problem}.",
            "Hello, there's a problem with my order: the {item} {problem}.",
        ),
        KIND: (
            "Hello, sorry to bother you, but the {item} from {merchant} {problem}.",
            "Hi there, I just got my order from {merchant} and unfortunately the {item} {problem}.",
            "Hi! I usually love {merchant}, but today the {item} {problem}.",
        ),
    },
    "refuse_details": {
        ROUGH: (
            "Does it matter? It was bad. Fix it.",
            "I already told you. Are you even reading?",
            "Why all the questions? Just sort it out.",
        ),
        PLAIN: ("I don't really know what else to say, it was just bad.",),
        KIND: ("I don't know what else to add, sorry.",),
    },
    "give_evidence": {
        ROUGH: ("Here. {picture}", "Fine. {picture}", "{picture} Happy now?"),
        PLAIN: ("Sure, here it is. {picture}", "Here you go. {picture}"),
        KIND: ("Of course, here you go. {picture}", "Sure, I took one. {picture}"),
    },
    "refuse_evidence": {
        ROUGH: (
            "I'm not sending you photos. Just sort it out.",
            "No. I shouldn't have to prove anything.",
            "Why would I send a photo? You have my order.",
        ),
        PLAIN: ("I'd rather not, I already described it.",),
        KIND: ("I'd prefer not to, I hope my description is enough.",),
    },
    "no_photo": {
        ROUGH: (
            "I didn't take a picture. I was hungry.",
            "There's no photo, I already threw it out.",
        ),
        PLAIN: (
            "I didn't take a photo, sorry. I ate what I could.",
            "I already threw it away, sorry.",
        ),
        KIND: (
            "Oh, I'm sorry, I didn't think to take a photo.",
            "I'm afraid I threw it away already.",
        ),
    },
    "evidence_again": {
        ROUGH: ("I already sent you the photo!", "Look at the picture I sent."),
        PLAIN: ("I already sent a photo above.",),
        KIND: ("I sent a photo a moment ago, can you see it?",),
    },
    "ask_again_annoyed": {
        ROUGH: ("Why do you keep asking for photos?", "Stop asking me for pictures."),
        PLAIN: ("You already asked me that.",),
        KIND: ("You asked that already, I believe.",),
    },
    "details_again": {
        ROUGH: ("I already told you what happened.", "Read what I wrote."),
        PLAIN: ("I explained that already.",),
        KIND: ("I explained that already, I believe.",),
    },
    "need_1": {
        ROUGH: (
            "I want a full refund. Not a voucher, a refund.",
            "Just give me my money back.",
            "Refund. Vouchers are no use to me.",
        ),
        PLAIN: (
            "I'd like a refund please, vouchers are no use to me.",
            "I want my money back, not a voucher.",
        ),
        KIND: ("I'd really just like my money back, please, not a voucher.",),
    },
    "need_2": {
        ROUGH: ("I want a refund. If you really can't, a voucher would be okay.",),
        PLAIN: ("I'd prefer a refund, but if that's not possible a voucher would be okay.",),
        KIND: ("A refund would be best. If you can't, I suppose a voucher is fine.",),
    },
    "need_3": {
        ROUGH: ("Some compensation would be fair, don't you think?",),
        PLAIN: ("Some kind of compensation would be fair.",),
        KIND: ("Anything reasonable to make up for it would be fine.",),
    },
    "need_4": {
        ROUGH: ("Mostly I want the restaurant to know. This keeps happening.",),
        PLAIN: ("Honestly I mainly want the restaurant to know so it doesn't happen again.",),
        KIND: ("I just wanted someone to hear about it, really, so the restaurant knows.",),
    },
    "accept_offer": {
        ROUGH: ("Fine, if a refund really isn't possible, a voucher is okay.", "Okay. Do it."),
        PLAIN: ("Yes, that works for me.", "Okay, a voucher is fine."),
        KIND: ("Oh, that would be kind, thank you.", "Yes, that sounds fair, thank you."),
    },
    "reject_offer": {
        ROUGH: ("I don't want a voucher. I want my money back.", "A voucher? No. Refund."),
        PLAIN: ("No, I don't want a voucher. I'd like a refund.",),
        KIND: ("Thanks, but I'd really rather have a refund than a voucher.",),
    },
    "pushback_1": {
        ROUGH: (
            "So no refund? That's ridiculous, I want my money back.",
            "That's it? I want a refund, not excuses.",
        ),
        PLAIN: ("That doesn't help me, I still want a refund.",),
        KIND: ("I understand, but I was really hoping for a refund.",),
    },
    "pushback_comp": {
        ROUGH: (
            "So I get nothing? Can you at least give me something for this?",
            "Nothing at all? That's not fair.",
        ),
        PLAIN: ("If you can't refund, can you at least offer something?",),
        KIND: ("I see. Is there really nothing you can offer for the trouble?",),
    },
    "voucher_pushback": {
        ROUGH: ("A voucher? I asked for a refund.", "A voucher isn't a refund."),
        PLAIN: ("A voucher isn't really what I asked for.",),
        KIND: ("Thanks, but a voucher isn't really what I wanted.",),
    },
    "end_voucher_good": {
        ROUGH: ("Okay. Fine.", "Alright, that'll do."),
        PLAIN: ("Okay, thanks, that helps.", "Got it, thank you."),
        KIND: ("Thank you so much, that's really kind!", "Thanks, I appreciate it."),
    },
    "end_voucher_bad": {
        ROUGH: ("A voucher isn't a refund. Whatever.", "Useless. Not what I asked for."),
        PLAIN: ("That's not what I asked for, but okay.",),
        KIND: ("Alright. It's not what I hoped for, but thanks.",),
    },
    "end_good": {
        ROUGH: ("Fine. At least someone listened.",),
        PLAIN: ("Okay, thanks for passing it on.", "Alright, thanks for your help."),
        KIND: ("Thank you for listening, I appreciate it.", "Thanks, that's all I wanted."),
    },
    "end_meh": {
        ROUGH: ("Whatever. I guess that's it.", "Fine."),
        PLAIN: ("Fine. I guess that's it then.", "Okay."),
        KIND: ("Alright, I understand. Thanks anyway.",),
    },
    "end_bad": {
        ROUGH: ("Useless. I'm done here.", "Worst support ever. Bye.", "I'm deleting this app."),
        PLAIN: ("That's disappointing. I'm done.", "Not helpful at all. Bye."),
        KIND: ("I'm sorry, but that's really disappointing. Goodbye.",),
    },
    "out_of_patience": {
        ROUGH: ("Forget it. I'm done with this.", "This is going nowhere. Bye."),
        PLAIN: ("This isn't going anywhere. I'll leave it.",),
        KIND: ("I don't think this is going anywhere, I'll stop here.",),
    },
    "stalling": {
        ROUGH: (
            "You already apologised. What are you actually going to do?",
            "Okay, and? What now?",
        ),
        PLAIN: ("Okay, but what happens now?",),
        KIND: ("Thanks, but what can actually be done?",),
    },
    "repeat": {
        ROUGH: ("You just said that.", "Are you a copy machine?"),
        PLAIN: ("You're repeating yourself.",),
        KIND: ("You said that already, I believe.",),
    },
    "false_voucher": {
        ROUGH: ("There's no voucher in my account. Don't lie to me.",),
        PLAIN: ("I checked, there's no voucher in my account. That's not true.",),
        KIND: ("I just checked and there's no voucher there. That's not right.",),
    },
    "false_refund": {
        ROUGH: ("There's no refund on my account. Stop making things up.",),
        PLAIN: ("My account shows no refund. That's not true.",),
        KIND: ("I can't see any refund at all. Please don't tell me things that aren't true.",),
    },
    "promise_followup": {
        ROUGH: ("Good. When exactly?", "It'd better happen."),
        PLAIN: ("Okay, when will that happen exactly?",),
        KIND: ("Oh great, when should I expect that?",),
    },
    "ai_reveal": {
        ROUGH: ("Wait, I'm talking to a bot? Unbelievable.",),
        PLAIN: ("Wait, am I talking to a bot?",),
        KIND: ("Oh, so this is automated? I was hoping for a person.",),
    },
    "off_topic": {
        ROUGH: ("What? That has nothing to do with my order.",),
        PLAIN: ("Sorry, what does that have to do with my order?",),
        KIND: ("Sorry, I don't follow. What about my order?",),
    },
    "too_long": {
        ROUGH: ("That's a wall of text. Get to the point.",),
        PLAIN: ("That's a lot of text. Can you get to the point?",),
        KIND: ("That's a lot to read. What does it mean for my order?",),
    },
    "premature_close": {
        ROUGH: ("Hold on, you haven't done anything yet.",),
        PLAIN: ("Wait, you haven't done anything about my problem yet.",),
        KIND: ("Sorry, but nothing has been sorted out yet.",),
    },
    "broken_offer": {
        ROUGH: ("So are you sending the voucher or not?",),
        PLAIN: ("So, is the voucher coming?",),
        KIND: ("Sorry, will the voucher be sent?",),
    },
    "continue": {
        ROUGH: ("So what are you going to do about it?", "Well?", "And?"),
        PLAIN: ("So what can you do?", "What happens now?"),
        KIND: ("What can be done about it?", "Is there anything you can do?"),
    },
}


def say(intent: str, tone: str, rng: random.Random, slots: dict[str, object]) -> str:
    """Render one template of ``intent`` in ``tone`` with ``slots`` (see module docstring)."""
    options = TEMPLATES[intent][tone]
    text = options[rng.randrange(len(options))] if len(options) > 1 else options[0]
    return text.format_map(slots) if "{" in text else text


def pick(options: tuple[str, ...], rng: random.Random) -> str:
    """One element of ``options`` (seeded)."""
    return options[rng.randrange(len(options))] if len(options) > 1 else options[0]


_FEE_WORDS = ("fee", "offer", "delivery", "service", "bag", "tip", "charge", "packaging")


def main_item(food_info_items: list[tuple[str, int]]) -> str:
    """First real food item of an order (skips fees and promotions); 'order' when none."""
    for name, _ in food_info_items:
        low = name.lower()
        if name and not any(w in low for w in _FEE_WORDS):
            return name
    return "order"
