"""Small fixed classifications: ISCED 2011 levels and ISIC Rev.4 sections.

Both are short and stable, so they live here as constants rather than tables; their versions are named
so extracts can state them (docs/statistics.md).
"""

ISCED_VERSION = "ISCED 2011 (UNESCO Institute for Statistics), levels of educational attainment"
# ISCED-A attainment levels 0-8, and 9 for "not elsewhere classified".
ISCED_LEVELS = {
    "0": "Less than primary education",
    "1": "Primary education",
    "2": "Lower secondary education",
    "3": "Upper secondary education",
    "4": "Post-secondary non-tertiary education",
    "5": "Short-cycle tertiary education",
    "6": "Bachelor's or equivalent level",
    "7": "Master's or equivalent level",
    "8": "Doctoral or equivalent level",
    "9": "Not elsewhere classified",
}

ISIC_VERSION = "ISIC Rev.4 (United Nations Statistics Division), sections"
ISIC_SECTIONS = {
    "A": "Agriculture, forestry and fishing",
    "B": "Mining and quarrying",
    "C": "Manufacturing",
    "D": "Electricity, gas, steam and air conditioning supply",
    "E": "Water supply; sewerage, waste management and remediation activities",
    "F": "Construction",
    "G": "Wholesale and retail trade; repair of motor vehicles and motorcycles",
    "H": "Transportation and storage",
    "I": "Accommodation and food service activities",
    "J": "Information and communication",
    "K": "Financial and insurance activities",
    "L": "Real estate activities",
    "M": "Professional, scientific and technical activities",
    "N": "Administrative and support service activities",
    "O": "Public administration and defence; compulsory social security",
    "P": "Education",
    "Q": "Human health and social work activities",
    "R": "Arts, entertainment and recreation",
    "S": "Other service activities",
    "T": "Activities of households as employers; undifferentiated goods- and services-producing "
    "activities of households for own use",
    "U": "Activities of extraterritorial organizations and bodies",
}
