"""Fact kinds about likes and dislikes."""

from __future__ import annotations

from .fact_kind import FactKind, from_pool, generated
from .values import band_name, invented_in_split
from .vocab import COLOURS, FOODS, LANGUAGES, SPORTS

FAVOURITE_COLOUR = FactKind(
    name="favourite_colour",
    make=from_pool(COLOURS),
    statements=(
        "My favourite colour is {value}.",
        "I love anything {value}.",
        "{value} has always been my favourite colour.",
        "I painted my room {value} because it's my favourite colour.",
        "If I had to pick a colour, it'd be {value}.",
        "My favourite colour? Definitely {value}.",
        "Half my wardrobe is {value}, my favourite colour.",
        "I'm obsessed with the colour {value}.",
        "No colour beats {value} for me.",
        "I always pick {value} when there's a choice of colour.",
    ),
    questions=(
        "What's my favourite colour?",
        "Which colour do I like best?",
        "Do you remember my favourite colour?",
        "What colour did I say I love?",
        "Remind me, what's my favourite colour?",
        "What's the colour I like most?",
        "Which colour is my favourite?",
    ),
    acks=("{value} is a great colour.", "Nice choice!", "Good taste.", "I can see why."),
    updates=(
        "Actually, these days my favourite colour is {value}, not {old_value}.",
        "I've changed my mind: {value} is my favourite colour now.",
        "Correction: it's {value} I love, not {old_value}.",
        "Lately I'm more into {value} than {old_value}.",
        "New favourite colour: {value}.",
    ),
)

FAVOURITE_FOOD = FactKind(
    name="favourite_food",
    make=from_pool(FOODS),
    statements=(
        "My favourite food is {value}.",
        "I could eat {value} every single day.",
        "Nothing makes me happier than {value}.",
        "My comfort food is {value}.",
        "If it's my last meal, I want {value}.",
        "{value} is my all-time favourite dish.",
        "I'm a huge fan of {value}, my favourite food.",
        "Whenever I can, I order {value}.",
        "I've been craving {value}, my favourite.",
        "Favourite food? {value}, easily.",
    ),
    questions=(
        "What's my favourite food?",
        "Which dish do I love most?",
        "Do you remember my favourite food?",
        "What did I say my comfort food is?",
        "Remind me, what's my favourite dish?",
        "What food could I eat every day?",
        "What's the food I like best?",
    ),
    acks=("Yum, {value}!", "Great choice.", "Now I'm hungry.", "Delicious."),
)

DISLIKED_FOOD = FactKind(
    name="disliked_food",
    make=from_pool(FOODS),
    statements=(
        "I can't stand {value}.",
        "I really hate {value}.",
        "Please never suggest {value} to me, I hate it.",
        "{value} is the one food I won't eat.",
        "I've never liked {value}, not even a bit.",
        "The food I dislike most is {value}.",
        "Honestly, {value} makes me gag.",
        "I'll eat almost anything except {value}.",
        "Just the smell of {value} puts me off.",
        "My least favourite food is {value}.",
    ),
    questions=(
        "What food do I hate?",
        "Which food can't I stand?",
        "Do you remember what food I dislike?",
        "What's my least favourite food?",
        "Remind me, what food should you never suggest to me?",
        "What food won't I eat?",
        "Which dish do I dislike most?",
    ),
    acks=("Noted, no {value} then.", "Fair enough!", "Everyone has one.", "Ha, understood."),
)

FAVOURITE_BAND = FactKind(
    name="favourite_band",
    make=generated(lambda rng, split: invented_in_split(band_name, rng, split)),
    statements=(
        "My favourite band is {value}.",
        "I've been listening to {value} nonstop.",
        "{value} is the best band ever, fight me.",
        "I have tickets to see {value}, my favourite band.",
        "I know every song by {value}.",
        "My all-time favourite band? {value}.",
        "I'm obsessed with a band called {value}.",
        "Nobody beats {value} for me musically.",
        "I've seen {value} live three times.",
        "If you ask me, {value} is the best band around.",
    ),
    questions=(
        "What's my favourite band?",
        "Which band do I love?",
        "Do you remember my favourite band?",
        "What band did I say I'm obsessed with?",
        "Remind me, what's my favourite band?",
        "Which band do I listen to the most?",
        "Who is my favourite band?",
    ),
    acks=("{value}, great pick!", "Good music taste.", "I'll have to check them out.", "Love that."),
)

FAVOURITE_SPORT = FactKind(
    name="favourite_sport",
    make=from_pool(SPORTS),
    statements=(
        "My favourite sport is {value}.",
        "I play {value} every weekend.",
        "I'm really into {value}.",
        "{value} is my favourite sport to watch and play.",
        "I've been doing {value} since I was a kid.",
        "My sport is {value}, no question.",
        "I spend my weekends on {value}.",
        "I joined a {value} club last year.",
        "My favourite thing to do for exercise is {value}.",
        "Love {value}; it's my favourite sport.",
    ),
    questions=(
        "What's my favourite sport?",
        "Which sport do I love?",
        "Do you remember what sport I'm into?",
        "What sport did I say I do?",
        "Remind me, which sport is my favourite?",
        "What sport am I into?",
        "Which sport do I like best?",
    ),
    acks=("{value} is great exercise.", "Nice, keeps you fit!", "Sporty!", "Fun!"),
)

LANGUAGE_LEARNING = FactKind(
    name="language_learning",
    make=from_pool(LANGUAGES),
    statements=(
        "I'm learning {value} at the moment.",
        "I've started taking {value} lessons.",
        "My {value} is getting better every week.",
        "I practise {value} on my phone every morning.",
        "I'm trying to learn {value} this year.",
        "{value} grammar is hard, but I'm learning it.",
        "I signed up for a {value} course.",
        "Learning {value} is my new hobby.",
        "I watch shows in {value} to practise.",
        "My goal is to speak {value} by next summer.",
    ),
    questions=(
        "Which language am I learning?",
        "What language am I studying?",
        "Do you remember what language I'm learning?",
        "What language did I say I'm practising?",
        "Remind me, which language am I learning?",
        "What language course did I sign up for?",
        "Which language do I practise?",
    ),
    acks=("Good luck with {value}!", "Languages are so rewarding.", "Impressive!", "Keep it up."),
    updates=(
        "I switched courses: I'm learning {value} now, not {old_value}.",
        "Dropped {old_value}; I'm doing {value} instead.",
        "Actually, it's {value} I'm studying now.",
        "Change of plan, my new language is {value}.",
        "I gave up on {old_value} and started {value}.",
    ),
)

PREFERENCE_KINDS = (
    FAVOURITE_COLOUR, FAVOURITE_FOOD, DISLIKED_FOOD, FAVOURITE_BAND, FAVOURITE_SPORT, LANGUAGE_LEARNING,
)  # fmt: skip
