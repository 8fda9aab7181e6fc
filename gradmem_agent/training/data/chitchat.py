"""Small talk between facts, plus the assistant's generic acknowledgements and correction openers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    name: str
    exchanges: tuple[tuple[str, str], ...]  # (user line, assistant reply)


TOPICS: tuple[Topic, ...] = (
    Topic(
        "weather",
        (
            (
                "It's so grey outside today. I almost stayed in bed.",
                "Grey days call for a warm drink and a blanket. No shame in a slow start.",
            ),
            (
                "Do you think it'll rain all week? My shoes are still wet.",
                "Hard to say, but stuffing them with newspaper helps them dry faster.",
            ),
            (
                "Finally some sunshine this morning! I opened all the windows.",
                "Lovely! Fresh air makes the whole place feel new.",
            ),
            (
                "The wind nearly took my hat off on the way to the shop.",
                "Ha, windy days are wild. Maybe a hat with a strap next time.",
            ),
            (
                "I'm so tired of the cold. My hands are always freezing.",
                "Spring will come, I promise. Warm gloves help until then.",
            ),
        ),
    ),
    Topic(
        "cooking",
        (
            (
                "I tried a new soup recipe last night. It took forever.",
                "Slow soups are often the tastiest. Did it turn out well?",
            ),
            (
                "Any tips for not burning onions? Mine always go black.",
                "Lower heat and patience. Stir them every minute or so.",
            ),
            (
                "I bought way too many vegetables again. The fridge is full.",
                "Roast them all on one tray with oil and salt, easy dinner.",
            ),
            (
                "Cooking for one is kind of boring, to be honest.",
                "Batch cooking can make it more fun, and it saves time later.",
            ),
            ("My sauce came out too salty. Can I save it?", "A splash of cream or a few potato chunks can soften it."),
        ),
    ),
    Topic(
        "movies",
        (
            (
                "I watched an old black and white film yesterday. Loved it.",
                "Classic films have such a special mood. The dialogue is so sharp.",
            ),
            (
                "Can you recommend something light to watch tonight?",
                "A feel-good comedy might be just right after a long day.",
            ),
            (
                "I fell asleep halfway through the movie again.",
                "Happens to the best of us. You can finish it tomorrow.",
            ),
            (
                "Cinema tickets are so expensive now. I almost didn't go.",
                "True. Matinee shows are often cheaper, if you can make them.",
            ),
            (
                "I love a good documentary, especially about the ocean.",
                "Same here, they're a great way to learn something new.",
            ),
        ),
    ),
    Topic(
        "running",
        (
            (
                "I went for a short run this morning. Legs are sore now.",
                "Great start to the day! Some stretching tonight will help.",
            ),
            (
                "My knees hurt after running. Is that normal?",
                "It can be. Maybe check your shoes and run on softer ground.",
            ),
            (
                "I'm thinking of signing up for a 10k race in autumn.",
                "Go for it, a goal keeps training fun and steady.",
            ),
            ("Running in the rain was oddly fun today.", "There's something freeing about it, isn't there?"),
            (
                "How often should a beginner run, do you think?",
                "Three easy runs a week is a solid start. Rest days matter too.",
            ),
        ),
    ),
    Topic(
        "gardening",
        (
            ("My tomatoes are finally turning red. So proud of them.", "So satisfying! Homegrown ones taste the best."),
            (
                "Something keeps eating my lettuce at night.",
                "Probably slugs. A beer trap or copper tape might stop them.",
            ),
            (
                "I repotted all my houseplants today. What a mess.",
                "They'll love the fresh soil, and the mess is worth it.",
            ),
            (
                "Is it too late in the year to plant bulbs?",
                "Usually you can still plant them until the ground freezes.",
            ),
            ("The garden looks like a jungle after all that rain.", "A jungle is a sign of life! Trim it bit by bit."),
        ),
    ),
    Topic(
        "board games",
        (
            ("We played a board game until midnight. So much fun.", "Sounds like a great night. Who ended up winning?"),
            (
                "I always lose at strategy games. Every single time.",
                "Losing is how you learn the tricks. You'll get there.",
            ),
            ("Any good board games for two players?", "Cooperative games work really well for two people."),
            (
                "My family gets way too competitive at game night.",
                "That's half the fun, as long as nobody flips the table.",
            ),
            ("I bought a new card game today. The rules look long.", "Learning the rules together is part of the fun."),
        ),
    ),
    Topic(
        "reading",
        (
            ("I'm stuck in a reading slump. Nothing grabs me.", "Try something short and light to get back into it."),
            (
                "I finished a really long novel last night.",
                "Congrats! That's always a great feeling. Did you like the ending?",
            ),
            (
                "Do you prefer paper books or e-readers?",
                "Both have charm. Paper smells nice, e-readers are light to carry.",
            ),
            (
                "I keep buying books I never read. The pile is huge.",
                "A growing pile is basically a library in waiting.",
            ),
            ("Reading before bed really helps me sleep.", "That's a great habit, much better than scrolling."),
        ),
    ),
    Topic(
        "coffee",
        (
            ("I need coffee before I can think in the morning.", "Coffee first, thoughts later. Totally fair."),
            ("I'm trying to drink less caffeine. It's hard.", "Maybe swap the afternoon cup for herbal tea."),
            ("The little cafe down the street closed last week.", "Oh no, losing a local spot is always sad."),
            ("I finally learned to make a decent latte at home.", "Nice skill! Homemade lattes save a lot of money."),
            (
                "Is cold brew worth the effort? It takes all night.",
                "If you like smooth, less bitter coffee, definitely.",
            ),
        ),
    ),
    Topic(
        "weekend plans",
        (
            (
                "I have no plans this weekend. Not sure how I feel about it.",
                "A free weekend can be the best kind. Enjoy the quiet.",
            ),
            ("Should I clean the flat or go out this weekend?", "Why not both? A quick tidy, then something fun."),
            ("The weekend went by way too fast again.", "They always do. I hope it was at least restful."),
            ("I might just stay home and relax on Saturday.", "Sounds perfect. Rest is important too."),
            ("Thinking about a day trip somewhere new.", "Day trips are great for a change of scene. Pack snacks!"),
        ),
    ),
    Topic(
        "video games",
        (
            (
                "I stayed up too late playing games again.",
                "One more level turns into five, right? Happens to everyone.",
            ),
            ("Any cozy games you'd suggest for a rainy evening?", "Farming or puzzle games are usually very relaxing."),
            ("I finally beat that really hard boss!", "Congrats! That must have felt amazing after all those tries."),
            ("My console is making weird noises lately.", "Maybe give the vents a gentle clean, dust builds up."),
            ("Do you think video games count as art?", "Many of them do, with great music and stories."),
        ),
    ),
    Topic(
        "photography",
        (
            (
                "I took some photos at sunset. The sky was pink.",
                "Golden hour is the best light. I bet they look great.",
            ),
            (
                "My pictures always come out blurry. So annoying.",
                "Try holding your breath and bracing your arms on something.",
            ),
            (
                "Should I buy a proper camera, or is my phone enough?",
                "Your phone can do a lot, but a camera is fun to learn.",
            ),
            ("I love taking photos of old buildings in town.", "Old buildings have so much character and detail."),
            ("I printed some photos for the wall. Looks nice.", "Printed photos make a room feel really personal."),
        ),
    ),
    Topic(
        "hiking",
        (
            ("We hiked up a big hill this morning. I'm exhausted.", "The view must have been worth it. Rest up now."),
            ("My new boots gave me blisters on the hike.", "Ouch. Thicker socks and some tape might help next time."),
            ("What should I bring on a day hike?", "Water, snacks, a warm layer and a charged phone."),
            ("I saw a deer on the trail today!", "How lovely! Wildlife makes a hike extra special."),
            ("Hiking really clears my head after a long week.", "Fresh air and movement work wonders."),
        ),
    ),
    Topic(
        "knitting",
        (
            ("I started knitting a scarf. It's slow going.", "Cozy project! Slow is fine, it's relaxing."),
            ("I dropped a stitch and now there's a hole.", "A crochet hook can help you pick it back up."),
            ("Knitting helps me calm down in the evenings.", "The rhythm is very soothing, isn't it?"),
            ("My scarf is getting way too long. Oops.", "Extra long scarves are very stylish, honestly."),
            ("I want to try knitting socks next.", "Socks are a fun challenge, go for it."),
        ),
    ),
    Topic(
        "podcasts",
        (
            ("I listen to podcasts on my commute every day.", "Great way to make the trip go faster."),
            ("Any good history podcasts you'd recommend?", "Story-driven history shows are really gripping."),
            ("I'm so behind on all my podcasts.", "The backlog will wait for you, no rush."),
            ("I listen to everything at double speed.", "Efficient! Though some voices sound funny that fast."),
            ("Thinking about starting my own podcast.", "Fun idea! What would it be about?"),
        ),
    ),
    Topic(
        "chess",
        (
            ("I've been playing chess online a lot lately.", "Chess is such a good brain workout."),
            ("I keep losing my queen early in the game.", "Try developing your knights and bishops first."),
            ("I won a game in under twenty moves!", "Nice, that's a quick and clean win."),
            ("Should I learn chess openings properly?", "A couple of basic openings help a lot. No need for more."),
            ("Chess puzzles are weirdly addictive.", "They're great practice for spotting tactics."),
        ),
    ),
    Topic(
        "yoga",
        (
            ("I did a short yoga session this morning.", "Lovely way to loosen up before the day."),
            ("I can't touch my toes at all. Is that bad?", "Not at all. Flexibility comes slowly, keep at it."),
            ("Yoga in the morning really wakes me up.", "Gentle movement is a great start to the day."),
            ("My balance is terrible. I wobble in every pose.", "Balance improves quickly with a little practice."),
            ("I fell asleep during the relaxation part of class.", "That means it worked!"),
        ),
    ),
    Topic(
        "baking",
        (
            ("My bread didn't rise at all. It's a brick.", "Maybe the yeast was old or the kitchen was too cold."),
            ("I baked cookies for the neighbours today.", "That's so kind, they'll love it."),
            ("Why do my cakes always sink in the middle?", "Often the oven door was opened too early."),
            ("I want to try making a sourdough starter.", "Fun project, just remember to feed it regularly."),
            ("The whole flat smells like cinnamon now.", "Best smell in the world, honestly."),
        ),
    ),
    Topic(
        "cycling",
        (
            ("I biked to work today. Felt great.", "Good exercise and no traffic jams. Win-win."),
            ("My bike chain keeps slipping on hills.", "It might need cleaning, or a new chain."),
            ("Cycling uphill is brutal. My legs are jelly.", "Low gear and steady breathing help a lot."),
            ("I got a flat tyre on the way home.", "Annoying! A spare tube is worth carrying."),
            ("Thinking about a longer ride this weekend.", "Sounds like a nice plan. Bring snacks and water."),
        ),
    ),
    Topic(
        "tv series",
        (
            ("I binge-watched a whole season last night.", "Was it worth the lost sleep?"),
            ("The finale of my show was so disappointing.", "Endings are hard to get right. Sorry it let you down."),
            ("Any funny series to recommend?", "A light sitcom is good comfort viewing."),
            ("I rewatch the same show every winter.", "Comfort shows are the best. Nothing wrong with that."),
            ("There are way too many streaming services now.", "It's hard to keep up, that's true."),
        ),
    ),
    Topic(
        "birdwatching",
        (
            ("I saw a woodpecker in the park today!", "What a treat! They're fun to watch."),
            ("I put up a bird feeder on the balcony.", "You'll have lots of little visitors soon."),
            ("How do you tell different sparrows apart?", "Look at the head markings and listen to the song."),
            ("The birds wake me up at dawn every day.", "Nature's alarm clock, for better or worse."),
            ("I bought binoculars for birdwatching.", "Great, now you'll see every feather."),
        ),
    ),
)

GENERIC_ACKS = (
    "Got it, thanks for telling me.",
    "Noted!",
    "Good to know.",
    "Thanks for sharing that.",
    "Okay, I'll keep that in mind.",
    "Ah, nice.",
    "Makes sense.",
    "Sounds good.",
    "Understood.",
    "Oh, interesting!",
    "Thanks, that helps.",
    "Cool, thanks.",
    "Sure thing.",
    "Okay!",
    "Nice, tell me more whenever you like.",
    "Alright, noted.",
)

CORRECTION_ACKS = (
    "Thanks for the update!",
    "Got it, I'll go with {value} then.",
    "Okay, {value} it is.",
    "Noted, updated.",
    "No problem, thanks for correcting that.",
    "Good to know, changed.",
)

# Generic correction openers, followed by one of the kind's statements with the new value.
CORRECTION_OPENERS = (
    "Actually, wait, I got something wrong earlier.",
    "Correction to what I said before:",
    "Sorry, I mixed that up earlier.",
    "Let me fix something I told you.",
    "Scratch what I said before.",
    "Oops, small correction:",
    "Update on what I mentioned:",
    "Hmm, I need to correct myself.",
    "One correction:",
    "I misspoke earlier.",
)

# Openers that may precede a statement starting with one of LOWERABLE_STARTS (lowercased).
LEAD_INS = ("Oh, by the way, ", "Random thing, but ", "Before I forget, ", "Also, ", "So, ", "Fun fact: ")
LOWERABLE_STARTS = ("My ", "Our ", "The ", "We ", "Being ", "Home ", "Work ", "Life ", "Nothing ", "No ", "Every ")

# Optional extra sentence after a fact statement; never carries a fact.
FACT_TAILS = (
    "Just thought I'd mention it.",
    "Anyway, that's my news.",
    "Life's been busy lately.",
    "Sorry for the random message.",
    "Not sure why I'm telling you this.",
    "It's been a long week.",
    "Anyway, back to my coffee.",
    "Funny how things work out.",
    "Okay, that's all for now.",
    "I keep forgetting to say that.",
    "Figured you should know.",
    "Anyway, enough about that.",
)

# Optional second sentence of an acknowledgement.
ACK_FOLLOW_UPS = (
    "What else is going on with you?",
    "Let me know if you need a reminder.",
    "Anything I can help with today?",
    "How's the rest of your week looking?",
    "Thanks for keeping me in the loop.",
    "Happy to chat about it anytime.",
    "Sounds like a busy time for you.",
    "I hope your day is going well.",
)

# Optional opener of a small-talk user turn.
SMALL_TALK_OPENERS = (
    "Hey again!",
    "Okay, different topic.",
    "Random question.",
    "So, today was a lot.",
    "Anyway, moving on.",
    "Quick thing.",
    "Hmm, something else.",
)
