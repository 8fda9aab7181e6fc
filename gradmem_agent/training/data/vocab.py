"""Value pools for planted facts. Split them with `splits.values_in_split`, never index them directly."""

from __future__ import annotations


def _words(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(text.split()))


def _lines(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(line.strip() for line in text.strip().splitlines() if line.strip()))


FIRST_NAMES = _words("""
Aaliyah Abebe Abigail Adaeze Adebayo Aditi Adrian Agnieszka Ahmed Aiko Aisha Akira Alejandro Aleksander
Alessandro Alexei Alice Alina Amara Amelia Amina Amir Ana Anders Andrea Andrei Aneta Angela Anika Anjali
Antoine Antonio Anwar Arjun Arne Arturo Asha Astrid Aurelio Ayaan Ayesha Babajide Barbara Bastian Beatriz
Benedikt Benjamin Bianca Bilal Birgit Bjorn Bogdan Bruno Camila Carlos Carmen Carolina Catalina Cecilia
Chen Chiara Chidi Chinedu Chloe Chris Clara Claudia Colm Cristina Dalia Damian Daniela Dara Darius Dawit
Deepak Delia Denis Devika Diego Dilnoza Dimitri Divya Dominik Dorota Duc Dunja Eamon Edgar Eduardo Efua
Eitan Elena Elif Elijah Elin Eliska Elsa Emeka Emil Emily Emma Enzo Erik Esi Esteban Ethan Eun Fabian
Farah Farid Fatima Federica Felipe Felix Femi Fernando Filip Fiona Florin Francesca Freya Gabriel Gaurav
Georgia Gianluca Giulia Goran Grace Greta Guadalupe Gustavo Hamza Hana Hannah Haruto Hassan Heidi Helga
Hemi Henrik Hiroshi Hugo Ibrahim Ida Ifeoma Igor Ilse Imani Imran Ines Ingrid Ioana Irina Isaac Isabel
Ismail Ivan Ivana Jabari Jakob Jamal Jana Javier Jaya Jelena Jens Jia Joao Joaquin Johanna Jonas Jorge
Josefina Julia Julian Jun Juno Kaito Kalani Kamal Karim Karin Kasia Katarina Kavya Keanu Kemal Kenji
Keziah Khadija Kiran Kofi Kwame Lachlan Laila Lars Laura Layla Leila Lena Leon Leonardo Liam Lina Linnea
Lior Lorenzo Lucia Luis Lukas Luz Magnus Mai Maja Malak Malia Manon Marco Mariam Marisol Marta Mateo
Matteo Maya Mehmet Mei Mikael Milena Ming Mira Miriam Mohammed Monika Nadia Naledi Naoki Natalia
Nia Nicolas Nikhil Nilufar Nina Noa Noor Nora Obinna Oksana Olga Oliver Olumide Omar Oscar Paolo Parisa
Pavel Pedro Petra Pilar Pooja Priya Rafael Rahul Rania Rashid Ravi Reza Rin Rohan Rosa Ruth Ryo Saanvi
Sabine Sadia Samir Sana Sara Sebastian Selin Seo Sergio Shira Shreya Sienna Simone Siobhan
Soren Stefan Sunita Svetlana Tahmina Takumi Tamar Tanvir Tariq Tendai Teresa Thabo Thandiwe Theo Tiago
Timur Tomas Tove Uma Umar Valentina Vera Victor Vikram Viktor Vusi Wanjiru Wei Xavier Ximena Yara Yasmin
Yasuko Yemi Yosef Yuki Yusuf Zainab Zanele Zara Zeynep Zhang Ziva Zoltan Zuri Ade Ailbhe Aroha Bongani
Bruna Caoimhe Dagny Emre Eszter Ferhat Gulnara Hyun Ilona Jussi Kalinda Lwazi Makoa Nalani Oisin Pania
Quang Rangi Saoirse Tadhg Unai Vaea Wiremu Xiadani Yerlan Zofia Amadou Binta Cheikh Demba Fatou Ibou
Mariama Moussa Ousmane Salif Aziz Bahar Darya Hadi Kian Leyla Navid Parviz Shirin Soraya Aarav Bhavna
Chetan Ishaan Lakshmi Meera Nandini Rajesh Tanvi Vivek Anh Binh Hoa Khanh Linh Minh Phuong Thanh Tuan
Arnav Ciaran Declan Ewa Gosia Hania Jurek Kuba Mateusz Wojtek Agathe Baptiste Camille Elodie Gaspard
Margaux Thibault Yannick Alvaro Ines Lucas Nuno Rui Vasco Xana Benicio Dolores Ignacio Paloma Rocio
""")

CITIES = _lines("""
Porto
Lisbon
Madrid
Seville
Valencia
Bilbao
Barcelona
Marseille
Lyon
Bordeaux
Toulouse
Nantes
Brussels
Ghent
Antwerp
Rotterdam
Utrecht
Amsterdam
Hamburg
Leipzig
Dresden
Munich
Cologne
Stuttgart
Freiburg
Zurich
Geneva
Basel
Vienna
Graz
Salzburg
Prague
Brno
Bratislava
Budapest
Krakow
Gdansk
Wroclaw
Warsaw
Vilnius
Riga
Tallinn
Helsinki
Tampere
Stockholm
Gothenburg
Malmo
Oslo
Bergen
Trondheim
Copenhagen
Aarhus
Reykjavik
Dublin
Cork
Galway
Belfast
Edinburgh
Glasgow
Aberdeen
Manchester
Leeds
Bristol
Brighton
Cardiff
Liverpool
Milan
Turin
Bologna
Florence
Naples
Palermo
Genoa
Verona
Ljubljana
Zagreb
Split
Belgrade
Sarajevo
Skopje
Sofia
Plovdiv
Bucharest
Cluj-Napoca
Athens
Thessaloniki
Istanbul
Izmir
Ankara
Tbilisi
Yerevan
Baku
Almaty
Tashkent
Beirut
Amman
Muscat
Doha
Dubai
Cairo
Alexandria
Tunis
Casablanca
Marrakesh
Fez
Dakar
Accra
Lagos
Abuja
Nairobi
Mombasa
Kampala
Kigali
Addis Ababa
Zanzibar
Lusaka
Harare
Windhoek
Gaborone
Durban
Cape Town
Johannesburg
Maputo
Antananarivo
Karachi
Lahore
Mumbai
Pune
Bangalore
Chennai
Hyderabad
Kolkata
Jaipur
Kochi
Kathmandu
Colombo
Dhaka
Yangon
Chiang Mai
Bangkok
Hanoi
Da Nang
Ho Chi Minh City
Phnom Penh
Vientiane
Kuala Lumpur
Penang
Singapore
Jakarta
Bandung
Yogyakarta
Denpasar
Manila
Cebu
Taipei
Kaohsiung
Hong Kong
Shenzhen
Guangzhou
Chengdu
Xi'an
Shanghai
Hangzhou
Beijing
Harbin
Seoul
Busan
Daegu
Tokyo
Osaka
Kyoto
Sapporo
Fukuoka
Nagoya
Ulaanbaatar
Vladivostok
Novosibirsk
Kazan
Perth
Adelaide
Melbourne
Sydney
Brisbane
Hobart
Darwin
Auckland
Wellington
Christchurch
Dunedin
Suva
Honolulu
Anchorage
Vancouver
Victoria
Calgary
Edmonton
Winnipeg
Toronto
Ottawa
Montreal
Quebec City
Halifax
Seattle
Portland
San Francisco
Oakland
Los Angeles
San Diego
Phoenix
Tucson
Denver
Boulder
Salt Lake City
Austin
Houston
Dallas
San Antonio
New Orleans
Memphis
Nashville
Atlanta
Miami
Tampa
Orlando
Charlotte
Raleigh
Richmond
Baltimore
Philadelphia
Pittsburgh
Boston
Providence
Chicago
Detroit
Cleveland
Minneapolis
Milwaukee
Kansas City
St. Louis
Albuquerque
Monterrey
Guadalajara
Mexico City
Oaxaca
Merida
Havana
Santo Domingo
San Juan
Kingston
Panama City
San Jose
Bogota
Medellin
Cartagena
Quito
Guayaquil
Lima
Cusco
La Paz
Santiago
Valparaiso
Mendoza
Cordoba
Buenos Aires
Rosario
Montevideo
Asuncion
Sao Paulo
Rio de Janeiro
Salvador
Recife
Fortaleza
Curitiba
Porto Alegre
Belo Horizonte
Manaus
""")

PET_SPECIES = _lines("""
cat
dog
rabbit
hamster
parrot
tortoise
goldfish
ferret
guinea pig
gecko
iguana
budgie
canary
chinchilla
hedgehog
corn snake
axolotl
cockatiel
bearded dragon
rat
gerbil
pony
goat
duck
chicken
pig
sheep
alpaca
lovebird
hermit crab
tarantula
turtle
""")

PET_NAMES = _words("""
Biscuit Pickles Noodle Mochi Pepper Ziggy Waffles Pumpkin Nugget Pretzel Bean Olive Maple Ginger Peanut
Pancake Sprout Rocket Comet Bubbles Muffin Cookie Toffee Nacho Tofu Dumpling Miso Sushi Kiwi Mango Coco
Juniper Basil Clover Hazel Willow Pebble Smudge Socks Mittens Whiskers Shadow Ghost Bandit Buster Rascal
Scout Ranger Bear Teddy Duke Duchess Princess Queenie Baron Captain Admiral Major Sergeant Rusty
Copper Goldie Silver Ash Ember Blaze Storm Thunder Misty Cloud Sky Sunny Honey Sugar Candy Caramel Fudge
Brownie Oreo Truffle Cocoa Latte Espresso Mocha Chai Biscotti Crumpet Scone Bagel Taco Burrito Churro
Falafel Hummus Pesto Ravioli Gnocchi Risotto Paprika Cinnamon Nutmeg Saffron Wasabi Sesame Poppy Daisy
Tulip Lily Iris Violet Blossom Petal Fern Moss Acorn Pinecone Twig Bramble Thistle Nettle Sorrel Figaro
Mozart Chopin Elvis Bowie Ringo Marley Dylan Freddie Prince Ziggystar Yoda Chewie Gizmo Gremlin Pixel
Widget Sprocket Gadget Button Zipper Doodle Squiggle Wiggles Jiggles Fluffy Fuzzy Scruffy Patches Spot
Dotty Freckles Marbles Domino Checkers Bingo Yahtzee Jenga Loki Thor Odin Athena Apollo Zeus Hermes
Luna Stella Nova Orion Atlas Cosmo Nebula Pluto Jupiter Mars Boots Tinkerbell Pudding Jellybean Custard
Meringue Sorbet Gelato Tiramisu Crouton Radish Turnip Parsnip Potato Spud Dash Zoom Flash Turbo Bolt
Zorro Sherlock Watson Poirot Marple Columbo Hobbes Calvin Garfield Snoopy Bagheera Baloo Simba Nala Kovu
Pippin Merry Frodo Bilbo Gandalf Legolas Mushu Stitch Olaf Sven Kermit Elmo Grover Ernie Bert
""")

COLOURS = _lines("""
blue
green
red
yellow
orange
purple
pink
teal
turquoise
burgundy
maroon
navy blue
sky blue
forest green
olive green
mint green
lavender
lilac
mustard yellow
coral
peach
salmon pink
crimson
scarlet
magenta
indigo
violet
charcoal grey
silver
gold
bronze
copper
beige
cream
ivory
chocolate brown
rust orange
emerald green
sage green
cobalt blue
aquamarine
amber
plum
fuchsia
tangerine
""")

FOODS = _lines("""
ramen
paella
lasagna
sushi
tacos
pad thai
biryani
pho
dumplings
falafel
shakshuka
moussaka
pierogi
goulash
risotto
gnocchi
carbonara
pizza margherita
fish and chips
bibimbap
kimchi stew
bulgogi
tonkatsu
okonomiyaki
laksa
nasi goreng
rendang
chicken tikka masala
butter chicken
palak paneer
masala dosa
chole bhature
jollof rice
egusi soup
injera
bobotie
tagine
couscous
hummus
baba ganoush
tabbouleh
kebab
lahmacun
borscht
pelmeni
schnitzel
spaetzle
fondue
raclette
ratatouille
croque monsieur
quiche lorraine
bouillabaisse
coq au vin
feijoada
pao de queijo
empanadas
ceviche
arepas
enchiladas
tamales
pozole
burritos
mac and cheese
clam chowder
gumbo
jambalaya
barbecue ribs
pancakes
waffles
french toast
banana bread
cheesecake
apple pie
tiramisu
baklava
churros
mochi
gelato
lemon tart
carrot cake
brownies
porridge
poke bowls
spring rolls
dim sum
peking duck
mapo tofu
kung pao chicken
hot pot
congee
onigiri
udon
soba
tempura
katsu curry
green curry
massaman curry
tom yum
banh mi
khachapuri
plov
manti
dolma
spanakopita
souvlaki
halloumi
pesto pasta
minestrone
gazpacho
tortilla espanola
patatas bravas
croquetas
poutine
meatballs
cabbage rolls
olives
mushrooms
brussels sprouts
liver
anchovies
blue cheese
coriander
licorice
oysters
beetroot
celery
aubergine
""")

SPORTS = _lines("""
football
basketball
tennis
badminton
volleyball
handball
rugby
cricket
baseball
ice hockey
field hockey
table tennis
squash
golf
cycling
swimming
rowing
kayaking
sailing
surfing
skiing
snowboarding
climbing
bouldering
running
triathlon
fencing
judo
karate
boxing
wrestling
taekwondo
archery
gymnastics
figure skating
water polo
ultimate frisbee
netball
lacrosse
curling
darts
snooker
bowling
skateboarding
orienteering
padel
pickleball
kickboxing
""")

LANGUAGES = _lines("""
Spanish
French
German
Italian
Portuguese
Dutch
Swedish
Norwegian
Danish
Finnish
Icelandic
Polish
Czech
Hungarian
Romanian
Greek
Turkish
Russian
Ukrainian
Georgian
Armenian
Arabic
Hebrew
Persian
Hindi
Bengali
Tamil
Urdu
Nepali
Thai
Vietnamese
Indonesian
Tagalog
Mandarin
Cantonese
Japanese
Korean
Swahili
Yoruba
Amharic
Zulu
Irish
Welsh
Basque
Catalan
Croatian
Serbian
Lithuanian
Estonian
Latin
""")

JOB_TITLES = _lines("""
nurse
pharmacist
dentist
physiotherapist
paramedic
veterinarian
midwife
radiographer
teacher
librarian
lecturer
school counsellor
software engineer
data analyst
web developer
systems administrator
UX designer
product manager
graphic designer
architect
civil engineer
electrician
plumber
carpenter
welder
mechanic
pilot
flight attendant
bus driver
train conductor
chef
baker
barista
sommelier
florist
gardener
farmer
beekeeper
fisherman
journalist
photographer
translator
editor
copywriter
accountant
tax adviser
bank clerk
lawyer
paralegal
judge
police officer
firefighter
social worker
psychologist
optician
hairdresser
tailor
jeweller
potter
carpenter's apprentice
sound engineer
film editor
museum curator
park ranger
geologist
chemist
lab technician
marine biologist
meteorologist
estate agent
insurance broker
recruiter
HR manager
event planner
tour guide
hotel receptionist
zookeeper
dog groomer
yoga instructor
personal trainer
dance teacher
music teacher
piano tuner
bookbinder
locksmith
surveyor
cartographer
urban planner
""")

APPOINTMENTS = _lines("""
dentist appointment
doctor's appointment
eye test
haircut
physio session
job interview
driving lesson
car service
vet appointment
parent-teacher meeting
tax appointment
bank appointment
massage
flu jab
piano lesson
therapy session
dermatologist appointment
passport appointment
mortgage meeting
blood test
""")

MEETINGS = _lines("""
call with the bank
team meeting
call with my landlord
video call with my parents
meeting with my manager
yoga class
spin class
train
bus to the airport
cooking class
language exchange
book club
choir practice
climbing session
football match
pottery class
pub quiz
dance class
parcel delivery
plumber visit
""")

EVENTS = _lines("""
birthday party
housewarming
wedding
barbecue
dinner party
baby shower
farewell drinks
family reunion
graduation party
game night
picnic
concert
school play
charity run
retirement party
""")

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip

# Parts of invented band, restaurant and company names (see values.py).
BAND_ADJECTIVES = _words(
    "Velvet Paper Electric Silent Golden Hollow Neon Crimson Wandering Broken Lucky Midnight Restless "
    "Quiet Burning Frozen Lonely Wild Gentle Rusty Marble Cosmic Tidal Amber Static Sleepy Copper Violet "
    "Distant"
)
BAND_NOUNS = _words(
    "Foxes Lanterns Orchards Pilots Harbours Mirrors Ravens Tigers Echoes Satellites Owls Comets Rivers "
    "Wolves Engines Gardens Sparrows Anchors Giants Lighthouses Monks Dolphins Bandits Clocks Ghosts "
    "Kites"
)
PLACE_WORDS = _words(
    "Fig Olive Lantern Anchor Saffron Juniper Harbour Orchard Copper Pepper Basil Cedar Lemon Walnut Plum "
    "Salt Ember Willow Thistle Cobble Meadow Clove Quince Pearl"
)
PLACE_ADJECTIVES = _words("Blue Golden Little Green Red Old Hidden Crooked Silver Sleepy Hungry Lucky Rusty")
CUISINE_WORDS = _words("Kitchen Table Bistro Canteen Diner Trattoria Tavern Cantina Grill Noodle Bar Eatery")
ONSETS = _words("b br c d dr f g gr k l m n p pr qu r s st t tr v z")
VOWELS = _words("a e i o u ai ea io")
CODAS = ("", "", "n", "r", "l", "x", "s", "th", "m")  # empty codas make open syllables likelier
COMPANY_SUFFIXES = _words(
    "Labs Logistics Systems Analytics Foods Energy Robotics Media Health Studios Software Insurance Bank "
    "Consulting Pharma Motors Textiles Games Freight Solar Biotech"
)

# Key phrases of the open-key fact kinds (facts_open): none may occur in a hand-written benchmark question.
ROLES = _lines("""
electrician
dog walker
babysitter
nanny
maths tutor
swimming coach
tennis coach
football coach
yoga teacher
piano teacher
guitar teacher
singing teacher
driving instructor
personal trainer
physio
therapist
counsellor
optician
pharmacist
midwife
surgeon
hairdresser
barber
tailor
locksmith
gardener
window cleaner
painter
decorator
carpenter
roofer
estate agent
letting agent
solicitor
financial adviser
mortgage adviser
insurance broker
architect
surveyor
interior designer
wedding planner
photographer
caterer
florist
DJ
baker
butcher
travel agent
tour leader
recruiter
new intern
team lead
project manager
head teacher
school nurse
club secretary
treasurer
delivery driver
taxi driver
piano tuner
chimney sweep
web designer
translator
editor
caretaker
concierge
receptionist
beekeeper
dog groomer
cat sitter
house sitter
plasterer
tiler
mentor
thesis supervisor
running buddy
study partner
pen pal
godmother
best man
bridesmaid
referee
race director
quizmaster
bus driver
band's drummer
lead singer
""")

PRICED_ITEMS = _lines("""
new phone
winter coat
bike helmet
train pass
vet bill
boiler repair
car insurance
festival pass
hotel stay
bookshelf
rug
washing machine
fridge
coffee machine
laptop bag
running shoes
hiking boots
wedding gift
ski rental
tennis racket
camera lens
guitar
mattress
dining table
bus pass
haircut
violin lessons
dinner for two
theatre tickets
new glasses
car repair
birthday cake
paddleboard
microwave
air fryer
printer
headphones
sewing machine
armchair
barbecue
""")

COLOURED_ITEMS = _lines("""
umbrella
raincoat
backpack
yoga mat
kettle
scooter
mug
curtains
bedroom walls
suit
tie
helmet
kayak
notebook
phone case
suitcase
wellies
beanie
gloves
lamp
shed
balloons
cake icing
bridesmaid dresses
bathroom tiles
garden bench
hammock
lunchbox
water bottle
skateboard
bookcase
dressing gown
teapot
wheelbarrow
front porch
garage door
canoe
ribbon
picnic blanket
""")

NUMBERED_THINGS = _lines("""
parking space
cabin
bay
berth
row
bib
pager
cloakroom ticket
mailbox
carriage
lane
hut
pod
workstation
bed
pigeonhole
bus stop
ward
apartment block
hangar
queue ticket
raffle ticket
jersey
boat slip
storage unit
""")

OPEN_EVENTS = _lines("""
parents' evening
team dinner
quiz night
jam session
charity gala
open day
car boot sale
careers fair
christening
stag do
hen party
leaving do
board meeting
town hall meeting
swimming gala
book launch
art class
first aid course
flu clinic
sponsored walk
street party
craft fair
boat trip
ghost tour
cinema night
karaoke night
salsa class
chess club
coding workshop
fire safety talk
tasting evening
poetry reading
fun run
volunteer briefing
residents' meeting
flea market
sports day
band rehearsal
drawing class
science fair
""")
