"""Vocabulary for synthetic demo data: names, places, destinations and occupations typical of the
Zimbabwe-South Africa corridor. Weights are rough shares, for realistic-looking tables, not statistics."""

SURNAMES = (
    "Moyo", "Ncube", "Sibanda", "Dube", "Ndlovu", "Nyathi", "Mpofu", "Tshuma", "Khumalo", "Mlilo", "Gumbo",
    "Chikwanha", "Mutasa", "Chirwa", "Banda", "Phiri", "Mhlanga", "Moyo-Ncube", "Zhou", "Shumba", "Gumede",
    "Mushonga", "Chigumba", "Marufu", "Mapfumo", "Chiweshe", "Madziva", "Mukanya", "Matongo", "Makoni",
    "Chimuka", "Hove", "Maphosa", "Nkomo", "Mutambara", "Chinyama", "Mabhena", "Masuku", "Moyana", "Nyoni",
    "Sithole", "Chauke", "Baloyi", "Maluleke", "Mathebula", "Ngwenya", "Mlambo", "Tembo", "Mudzingwa",
    "Muchenje", "Murwira", "Chakanyuka", "Mavhunga", "Ruzvidzo", "Gwenzi", "Mazhindu", "Chidzikwe", "Nhema",
)
GIVEN_FEMALE = (
    "Tendai", "Rutendo", "Nyasha", "Chipo", "Rudo", "Tariro", "Fadzai", "Nokuthula", "Sibongile", "Thandiwe",
    "Precious", "Memory", "Blessing", "Patience", "Ruvimbo", "Tsitsi", "Vimbai", "Netsai", "Farai", "Shamiso",
    "Nomsa", "Zanele", "Lindiwe", "Mercy", "Grace", "Loveness", "Sekai", "Chiedza", "Kudzai", "Ropafadzo",
)
GIVEN_MALE = (
    "Tendai", "Tinashe", "Tafadzwa", "Farai", "Kudakwashe", "Tatenda", "Blessing", "Takudzwa", "Tapiwa",
    "Simbarashe", "Sipho", "Themba", "Bongani", "Mthokozisi", "Sibusiso", "Lovemore", "Godknows", "Innocent",
    "Brighton", "Talent", "Munyaradzi", "Tonderai", "Nkosana", "Thulani", "Shingai", "Panashe", "Ngoni",
    "Tawanda", "Kuda", "Trust",
)
# Home districts by province (ISO 3166-2).
DISTRICTS = {
    "ZW-MV": ("Masvingo", "Chiredzi", "Mwenezi", "Chivi", "Zaka", "Bikita", "Gutu"),
    "ZW-MS": ("Beitbridge", "Gwanda", "Insiza", "Matobo", "Bulilima", "Mangwe", "Umzingwane"),
    "ZW-MN": ("Hwange", "Lupane", "Nkayi", "Tsholotsho", "Binga", "Bubi", "Umguza"),
    "ZW-MA": ("Mutare", "Chipinge", "Chimanimani", "Buhera", "Makoni", "Mutasa", "Nyanga"),
    "ZW-MI": ("Gweru", "Zvishavane", "Shurugwi", "Mberengwa", "Gokwe North", "Kwekwe", "Chirumhanzu"),
    "ZW-BU": ("Bulawayo",),
    "ZW-HA": ("Harare", "Chitungwiza", "Epworth"),
    "ZW-ME": ("Marondera", "Mudzi", "Murehwa", "Mutoko", "Goromonzi", "Wedza"),
    "ZW-MC": ("Bindura", "Mazowe", "Shamva", "Mount Darwin", "Guruve", "Rushinga"),
    "ZW-MW": ("Chinhoyi", "Kariba", "Makonde", "Zvimba", "Hurungwe", "Chegutu"),
}
PROVINCE_WEIGHTS = {"ZW-MV": 22, "ZW-MS": 20, "ZW-MN": 8, "ZW-MA": 10, "ZW-MI": 12, "ZW-BU": 10, "ZW-HA": 8,
                    "ZW-ME": 4, "ZW-MC": 3, "ZW-MW": 3}
DESTINATIONS = {"ZA": 78, "BW": 9, "NA": 4, "ZM": 3, "MZ": 3, "MW": 1, "GB": 1, "AE": 1}
DESTINATION_SUBDIVISIONS = {
    "ZA": {"ZA-LP": 40, "ZA-GP": 28, "ZA-MP": 10, "ZA-WC": 8, "ZA-NW": 6, "ZA-KZN": 5, "ZA-FS": 3},
    "BW": {"BW-SE": 50, "BW-CE": 25, "BW-NE": 25},
}
# ISCO-08 unit group: (weight, ISIC section, skills text)
OCCUPATIONS = {
    "9211": (30, "A", "Harvesting citrus and tomatoes; irrigation"),
    "6111": (6, "A", "Vegetable growing"),
    "9212": (4, "A", "Cattle herding"),
    "9111": (12, "T", "Cleaning, laundry, child minding"),
    "5322": (4, "Q", "Caring for the elderly"),
    "7112": (6, "F", "Bricklaying, plastering"),
    "9313": (6, "F", "General building work"),
    "7115": (2, "F", "Roofing, shuttering"),
    "7411": (2, "F", "House wiring"),
    "8111": (6, "B", "Underground drilling, blasting assistant"),
    "8322": (4, "H", "Light vehicle driving, code 8 licence"),
    "8332": (4, "H", "Heavy truck driving, code 14 licence"),
    "5120": (3, "I", "Cooking for staff canteens"),
    "9412": (3, "I", "Kitchen helper"),
    "5223": (3, "G", "Shop sales"),
    "7231": (2, "G", "Motor vehicle repair"),
    "9622": (3, "N", "General odd jobs"),
}
LANGUAGES_BY_PROVINCE = {
    "ZW-MS": ("nde", "eng", "ven"), "ZW-MN": ("nde", "eng", "toi"), "ZW-BU": ("nde", "eng"),
}
EMPLOYERS = ("Tshipise Citrus Estates", "Letaba Valley Farms", "Musina Tomato Growers", "Limpopo Fresh Produce",
             "Hoedspruit Mango Co-operative", "Pretoria Household Services")
AGENCIES = ("Beitbridge Labour Brokers (Pvt) Ltd", "Southern Recruitment Services", "Limpopo Farm Labour Agency")

DEMO_OFFICES = (
    # code, name, kind, subdivision, default destination
    ("HQ", "Head Office, Ministry of Labour, Harare", "head_office", "ZW-HA", "ZA"),
    ("BBR", "Labour Migration Centre, Beitbridge", "border_post", "ZW-MS", "ZA"),
    ("CHR", "District Labour Office, Chiredzi", "district_office", "ZW-MV", "ZA"),
    ("MSV", "Provincial Labour Office, Masvingo", "district_office", "ZW-MV", "ZA"),
    ("HRE", "District Labour Office, Harare", "district_office", "ZW-HA", "ZA"),
    ("PLM", "Plumtree Border Post", "border_post", "ZW-MS", "BW"),
)

# What the demo offices print on slips: a second language and where to get help (numbers are fictional).
DEMO_SLIP_SETTINGS = {
    "BBR": ("sn", "Labour Migration Centre helpdesk +263 286 000 0001 (demo number)\n"
                  "Report a fee or a confiscated passport: any labour office, free of charge"),
    "PLM": ("nd", "Plumtree Border Post labour desk +263 19 000 0002 (demo number)"),
    "HRE": ("sn", "District Labour Office, Harare +263 24 000 0003 (demo number)"),
}

# Referral targets for the demo: fictional services near Beitbridge, and fictional employers recruiting
# seasonal workers in the region.
DEMO_SERVICES = (
    # kind, name, address, subdivision, phone, hours, what to bring
    ("orientation", "Pre-departure orientation, Labour Migration Centre", "Border Post Road, Beitbridge", "ZW-MS",
     "+263772000010", "Tue and Thu 09:00-12:00", "National ID or passport"),
    ("medical", "Migrant health clinic, District Hospital", "Hospital Road, Beitbridge", "ZW-MS", "+263772000011",
     "Mon-Fri 08:00-16:00", "National ID\nAny medical records or prescriptions"),
    ("passport", "Passport office, Civic Centre", "Civic Centre, Beitbridge", "ZW-MS", "+263772000012",
     "Mon-Fri 08:00-15:30", "Birth certificate\nNational ID\nTwo passport photographs"),
    ("counselling", "Migrant counselling service", "Dulivhadzimo Road, Beitbridge", "ZW-MS", "+263772000013",
     "Mon-Sat 08:00-17:00", None),
    ("trafficking", "Support desk for victims of trafficking", "Labour Migration Centre, Beitbridge", "ZW-MS",
     "+263772000014", "Every day, 24 hours", None),
)
DEMO_EMPLOYERS = (
    # name, country, subdivision, address, phone, vacancies: (title, ISCO-08, places, wage, currency, vetted, bring)
    ("Mopani Citrus Estates", "ZA", "ZA-LP", "R572, Tshipise", "+27155550001", (
        ("Citrus pickers", "9211", 60, 4800, "ZAR", True, "Passport with a valid work visa\nWork boots"),
        ("Tractor drivers", "8341", 4, 7200, "ZAR", True, "Passport with a valid work visa\nDriving licence"),
    )),
    ("Levubu Macadamia Farms", "ZA", "ZA-LP", "Levubu, Makhado", "+27155550002", (
        ("Macadamia harvest workers", "9211", 35, 4500, "ZAR", False, "Passport with a valid work visa"),
    )),
    ("Tuli Block Cattle Ranch", "BW", "BW-CE", "Tuli Block, Central District", "+2674920003", (
        ("Cattle herders", "6121", 6, 2600, "BWP", True, "Passport"),
    )),
)
