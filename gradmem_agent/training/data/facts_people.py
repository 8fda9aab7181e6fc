"""Fact kinds about people and pets."""

from __future__ import annotations

from .fact_kind import FactKind, from_pool, pool_context, with_context
from .vocab import FIRST_NAMES, PET_NAMES, PET_SPECIES

OWN_NAME = FactKind(
    name="own_name",
    make=from_pool(FIRST_NAMES),
    statements=(
        "My name is {value}, by the way.",
        "I'm {value}, nice to meet you.",
        "Oh, I never introduced myself. I'm {value}.",
        "You can call me {value}.",
        "Everyone calls me {value}, so you can too.",
        "Hi! {value} here.",
        "By the way, my name's {value}.",
        "I should say, I'm {value}. Glad to chat.",
        "Name's {value}, if you were wondering.",
        "My friends know me as {value}.",
    ),
    questions=(
        "What's my name?",
        "Do you remember my name?",
        "What did I say my name was?",
        "Who am I? What's my name again?",
        "Can you tell me my name?",
        "Remind me, what is my name?",
        "What name did I give you?",
    ),
    acks=("Nice to meet you, {value}!", "Hello {value}, great to chat.", "Lovely to meet you.", "Hi there!"),
    updates=(
        "Actually, I prefer to go by {value}, not {old_value}.",
        "Small thing: please call me {value} instead of {old_value}.",
        "I should correct myself: my name is {value}. {old_value} is my cousin.",
        "Sorry, I typed that wrong earlier. It's {value}, not {old_value}.",
        "Oops, autocorrect mangled my name. It's {value}.",
    ),
)

_PARTNERS = ("wife", "husband", "girlfriend", "boyfriend", "partner")
PARTNER_NAME = FactKind(
    name="partner_name",
    make=with_context(from_pool(FIRST_NAMES), rel=_PARTNERS),
    context=("rel",),
    statements=(
        "My {rel} {value} is cooking dinner tonight.",
        "My {rel}'s name is {value}.",
        "{value}, my {rel}, says hi.",
        "I'm planning a surprise for my {rel}, {value}.",
        "My {rel} is called {value}; we met at university.",
        "I've been with my {rel} {value} for six years now.",
        "My {rel} {value} thinks I chat with you too much.",
        "Quick context: {value} is my {rel}.",
        "My {rel}, {value}, just got back from a trip.",
        "{value} is my {rel}, in case I mention them.",
    ),
    questions=(
        "What's my {rel}'s name?",
        "What is my {rel} called?",
        "Do you remember my {rel}'s name?",
        "Who is my {rel}?",
        "Remind me, what's the name of my {rel}?",
        "What did I say my {rel} is called?",
        "Can you tell me my {rel}'s name?",
    ),
    acks=("Say hi to {value} from me!", "That's sweet.", "{value} sounds lovely.", "Nice, thanks for sharing."),
)

_FRIENDS = ("best friend", "oldest friend", "neighbour", "roommate", "flatmate", "childhood friend")
FRIEND_NAME = FactKind(
    name="friend_name",
    make=with_context(from_pool(FIRST_NAMES), rel=_FRIENDS),
    context=("rel",),
    statements=(
        "My {rel} {value} is visiting this weekend.",
        "I'm having lunch with my {rel}, {value}.",
        "My {rel} is called {value}.",
        "{value}, my {rel}, recommended you to me.",
        "My {rel} {value} just adopted a kitten.",
        "I owe my {rel} {value} a birthday present.",
        "You'd like my {rel}. Their name is {value}.",
        "My {rel}'s name is {value}, by the way.",
        "Went hiking with my {rel} {value} yesterday.",
        "{value} is my {rel}; we talk every day.",
    ),
    questions=(
        "What's my {rel}'s name?",
        "Who is my {rel}?",
        "What is my {rel} called?",
        "Do you remember the name of my {rel}?",
        "Remind me who my {rel} is.",
        "What did I say my {rel}'s name was?",
        "Can you remind me of my {rel}'s name?",
    ),
    acks=("Have fun with {value}!", "Sounds like a good friend.", "Nice!", "Good friends are the best."),
)

_COLLEAGUES = ("colleague", "manager", "boss", "teammate", "coworker", "mentor")
COLLEAGUE_NAME = FactKind(
    name="colleague_name",
    make=with_context(from_pool(FIRST_NAMES), rel=_COLLEAGUES),
    context=("rel",),
    statements=(
        "My {rel} {value} asked me to stay late today.",
        "I have a one-to-one with my {rel}, {value}, tomorrow.",
        "My {rel} is called {value}.",
        "{value}, my {rel}, brought cake to the office.",
        "My new {rel} is {value}, and so far so good.",
        "I had coffee with my {rel} {value} this morning.",
        "My {rel}'s name is {value}, and we get along well.",
        "{value} is my {rel} at work.",
        "My {rel} {value} keeps forwarding me memes.",
        "Work update: my {rel} {value} just got promoted.",
    ),
    questions=(
        "What's my {rel}'s name?",
        "Who is my {rel}?",
        "What is my {rel} called?",
        "Do you remember my {rel}'s name?",
        "Remind me, who's my {rel} at work?",
        "What did I say my {rel} was called?",
        "Can you tell me the name of my {rel}?",
    ),
    acks=("Work friends make a big difference.", "Good to know.", "{value} sounds fun to work with.", "Ha, nice."),
)

_RELATIVES = ("sister", "brother", "younger sister", "older brother", "cousin", "twin sister")
SIBLING_NAME = FactKind(
    name="sibling_name",
    make=with_context(from_pool(FIRST_NAMES), rel=_RELATIVES),
    context=("rel",),
    statements=(
        "My {rel} {value} is getting married next year.",
        "My {rel} is called {value}.",
        "I'm visiting my {rel}, {value}, on Sunday.",
        "{value}, my {rel}, just started university.",
        "My {rel} {value} lives three hours away.",
        "I have {a_rel} named {value}.",
        "My {rel}'s name is {value}.",
        "{value} is my {rel}; we're very close.",
        "Called my {rel} {value} for an hour last night.",
        "My {rel} {value} borrowed my car again.",
    ),
    questions=(
        "What's my {rel}'s name?",
        "What is my {rel} called?",
        "Who is my {rel}?",
        "Do you remember my {rel}'s name?",
        "Remind me, what's my {rel} called?",
        "What name did I give for my {rel}?",
        "Can you tell me my {rel}'s name?",
    ),
    acks=("Family is everything.", "That's nice to hear.", "Say hello to {value}!", "Oh, how fun."),
)

PET_NAME = FactKind(
    name="pet_name",
    group="pet",
    make=with_context(from_pool(PET_NAMES), pet=pool_context(PET_SPECIES)),
    context=("pet", "a_pet"),
    statements=(
        "My {pet} is called {value}.",
        "I have {a_pet} named {value}.",
        "{value}, my {pet}, knocked my coffee over this morning.",
        "We just adopted {a_pet}. We named it {value}.",
        "My {pet} {value} is sleeping on my feet right now.",
        "Our {pet}'s name is {value}.",
        "I had to take my {pet} {value} to the vet today.",
        "{value} is my {pet}, and honestly runs the house.",
        "My {pet}, {value}, turned two today.",
        "Meet {value}, my {pet}. Well, virtually.",
    ),
    questions=(
        "What's my {pet} called?",
        "What is the name of my {pet}?",
        "Do you remember my {pet}'s name?",
        "Remind me, what's my {pet}'s name?",
        "What did I name my {pet}?",
        "What's the name of the {pet} I have?",
        "Can you tell me what my {pet} is called?",
    ),
    acks=("{value} is a great name for {a_pet}!", "Aww, I love that.", "Cute!", "Give {value} a scratch from me."),
    updates=(
        "Wait, I mixed up the pets. My {pet} is called {value}, not {old_value}.",
        "Correction: the {pet} is {value}. {old_value} was our old one.",
        "We renamed our {pet}. It's {value} now.",
        "Sorry, my {pet}'s name is actually {value}.",
        "The kids voted, so our {pet} is now called {value}.",
    ),
)

PET_SPECIES_FACT = FactKind(
    name="pet_species",
    group="pet",
    make=with_context(from_pool(PET_SPECIES), name=pool_context(PET_NAMES)),
    context=("name",),
    statements=(
        "My pet {name} is {a_value}.",
        "I have {a_value} called {name}.",
        "{name} is my {value}, and a very spoiled one.",
        "We adopted {a_value} last month and named it {name}.",
        "Our {value}, {name}, is the boss of the house.",
        "My {value} {name} escaped again today.",
        "In case I mention {name}: {name} is my {value}.",
        "I spend too much on treats for {name}, my {value}.",
        "{name} is {a_value}. Best pet ever.",
        "My little {value} {name} needs a vet check soon.",
    ),
    questions=(
        "What kind of animal is {name}?",
        "What sort of pet is {name}?",
        "What animal did I say {name} is?",
        "Do you remember what kind of pet {name} is?",
        "Remind me, what species is {name}?",
        "What type of animal is my pet {name}?",
        "Which animal is {name}?",
    ),
    acks=("Aww, {name} sounds adorable.", "Pets are the best.", "How lovely!", "Say hi to {name} for me."),
)

# Kinds whose value is a name; chat_samples(invented_names=...) may swap it for a made-up one.
NAME_KINDS = frozenset(kind.name for kind in (OWN_NAME, PARTNER_NAME, FRIEND_NAME, COLLEAGUE_NAME, SIBLING_NAME,
                                              PET_NAME))
PEOPLE_KINDS = (OWN_NAME, PARTNER_NAME, FRIEND_NAME, COLLEAGUE_NAME, SIBLING_NAME, PET_NAME, PET_SPECIES_FACT)
