"""The demo CRM's own lists: what its administrators maintain and the Data Hub only reads.

Names are of the kind the 2016 CDMS held (sectors in two levels, UK regions, company types,
size bands); the demo seeding loads them before the records that point at them.
"""

SECTORS = [
    ("Advanced Engineering", ["Aerospace", "Automotive", "Marine", "Rail"]),
    ("Creative and Media", ["Games", "Film and Television", "Publishing", "Music"]),
    ("Energy", ["Oil and Gas", "Nuclear", "Renewable Energy", "Power"]),
    ("Financial and Professional Services", ["Banking", "Insurance", "Legal Services", "Accountancy"]),
    ("Food and Drink", ["Agriculture", "Beverages", "Food Manufacturing"]),
    ("Healthcare and Life Sciences", ["Biotechnology", "Medical Devices", "Pharmaceuticals"]),
    ("Technology", ["Software", "Cyber Security", "Telecoms", "Artificial Intelligence"]),
    ("Infrastructure", ["Construction", "Ports and Logistics", "Water"]),
    ("Retail and Consumer", ["Clothing and Textiles", "Household Goods", "Sports and Leisure"]),
    ("Education and Training", []),
    ("Chemicals", []),
    ("Defence and Security", []),
]
COUNTRIES = [
    "United Kingdom", "United States", "Germany", "France", "China", "India", "Japan", "Brazil",
    "Canada", "Australia", "Ireland", "Netherlands", "Spain", "Italy", "Sweden", "Norway",
    "Denmark", "Poland", "Switzerland", "Belgium", "Singapore", "Hong Kong", "South Korea",
    "United Arab Emirates", "Saudi Arabia", "Qatar", "Turkey", "Mexico", "South Africa",
    "Nigeria", "Kenya", "Egypt", "Israel", "New Zealand", "Malaysia", "Indonesia", "Vietnam",
    "Thailand", "Chile", "Argentina",
]  # fmt: skip
UK_REGIONS = [
    "London", "South East", "South West", "East of England", "East Midlands", "West Midlands",
    "Yorkshire and The Humber", "North West", "North East", "Scotland", "Wales", "Northern Ireland",
]  # fmt: skip
BUSINESS_TYPES = [
    "Private limited company", "Public limited company", "Limited liability partnership",
    "Partnership", "Sole trader", "Charity", "Government department", "University",
    "Company (overseas)",
]  # fmt: skip
EMPLOYEE_RANGES = ["1 to 9", "10 to 49", "50 to 249", "250 to 499", "500+"]
TURNOVER_RANGES = ["£0 to £1.34M", "£1.34 to £6.7M", "£6.7 to £33.5M", "£33.5M+"]
TITLES = ["Mr", "Mrs", "Miss", "Ms", "Dr", "Professor", "Sir", "Dame", "Lord", "Lady"]
CONTACT_ROLES = ["Director", "Export contact", "Finance", "Marketing", "Owner", "Procurement", "Other"]
INTERACTION_TYPES = ["Email", "Telephone", "Face to face", "Letter", "Video conference", "Social media"]
SERVICES = [
    "Account Management", "Export Win", "Events - UK based", "Events - Overseas",
    "Overseas Market Introduction Service", "Trade Access Programme", "Investment Enquiry",
    "Export Opportunities", "Bespoke service", "Market research",
]  # fmt: skip
SERVICE_DELIVERY_STATUSES = ["Offered", "Accepted", "Current", "Completed", "Cancelled"]
TEAMS = [
    "Trade - London", "Trade - Yorkshire", "Trade - North West", "Trade - Scotland",
    "Investment - Northern Powerhouse", "Investment - Tech", "Embassy - Berlin",
    "Embassy - Washington", "Consulate - Shanghai", "Sector - Creative", "Sector - Energy",
    "Events Team",
]  # fmt: skip
ADVISERS = 36
SUBJECTS = [
    "Export plan review", "Introductory meeting", "Trade mission follow-up", "Market visit briefing",
    "Investment enquiry", "Event registration", "Grant application support", "Account review",
    "Quarterly catch-up", "Overseas partner search",
]  # fmt: skip

# (logical name, its name attribute, names) of the flat lists.
LISTS = [
    ("optevia_country", "optevia_Country", COUNTRIES),
    ("optevia_ukregion", "optevia_name", UK_REGIONS),
    ("optevia_businesstype", "optevia_name", BUSINESS_TYPES),
    ("optevia_employeerange", "optevia_name", EMPLOYEE_RANGES),
    ("optevia_turnoverrange", "optevia_name", TURNOVER_RANGES),
    ("optevia_title", "optevia_name", TITLES),
    ("optevia_contactrole", "optevia_name", CONTACT_ROLES),
    ("optevia_interactioncommunicationchannel", "optevia_name", INTERACTION_TYPES),
    ("optevia_service", "optevia_name", SERVICES),
    ("optevia_servicedeliverystatus", "optevia_name", SERVICE_DELIVERY_STATUSES),
]
