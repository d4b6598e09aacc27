"""Word lists the generated people, companies and activities are drawn from (ASCII only)."""

from __future__ import annotations

FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Oliver", "Sophia", "Elijah", "Isabella", "James",
    "Mia", "William", "Amelia", "Benjamin", "Harper", "Lucas", "Evelyn", "Henry", "Abigail",
    "Alexander", "Emily", "Daniel", "Ella", "Michael", "Elizabeth", "Mason", "Camila", "Ethan",
    "Luna", "Logan", "Sofia", "Jackson", "Avery", "Sebastian", "Mila", "Jack", "Aria", "Aiden",
    "Scarlett", "Owen", "Penelope", "Samuel", "Layla", "Matthew", "Chloe", "Joseph", "Victoria",
    "Levi", "Madison", "David", "Eleanor", "John", "Grace", "Wyatt", "Nora", "Carter", "Riley",
    "Julian", "Zoey", "Luke", "Hannah", "Grayson", "Hazel", "Isaac", "Lily", "Jayden", "Ellie",
    "Gabriel", "Violet", "Anthony", "Lillian", "Dylan", "Zoe", "Leo", "Stella", "Lincoln", "Aurora",
    "Jaxon", "Natalie", "Asher", "Emilia", "Christopher", "Everly", "Josiah", "Leah", "Andrew",
    "Aubrey", "Thomas", "Willow", "Joshua", "Addison", "Ezra", "Lucy", "Hudson", "Audrey",
    "Charles", "Bella", "Caleb", "Nova", "Priya", "Arjun", "Mei", "Hiroshi", "Ingrid", "Lars",
    "Fatima", "Omar", "Chiara", "Mateo", "Ana", "Diego", "Sanjay", "Yuki", "Kwame", "Amara",
    "Tomasz", "Katarzyna", "Pierre", "Camille", "Jonas", "Lena", "Ravi", "Ananya",
)  # fmt: skip

LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans",
    "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris",
    "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson",
    "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson",
    "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes", "Price",
    "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez",
    "Chen", "Wang", "Singh", "Kumar", "Tanaka", "Suzuki", "Mueller", "Schmidt", "Schneider",
    "Fischer", "Dubois", "Moreau", "Rossi", "Russo", "Kowalski", "Nowak", "Larsen", "Hansen",
    "Okafor", "Mensah", "Haddad", "Silva", "Santos", "Costa",
)  # fmt: skip

# (title, department)
TITLES = (
    ("Chief Marketing Officer", "Marketing"), ("VP of Marketing", "Marketing"),
    ("Director of Demand Generation", "Marketing"), ("Marketing Operations Manager", "Marketing"),
    ("Marketing Manager", "Marketing"), ("Content Marketing Manager", "Marketing"),
    ("Growth Marketer", "Marketing"), ("Product Marketing Manager", "Marketing"),
    ("VP of Sales", "Sales"), ("Sales Director", "Sales"), ("Account Executive", "Sales"),
    ("Sales Development Representative", "Sales"), ("Revenue Operations Manager", "Sales"),
    ("Chief Technology Officer", "Engineering"), ("VP of Engineering", "Engineering"),
    ("Software Engineer", "Engineering"), ("Engineering Manager", "Engineering"),
    ("Solutions Architect", "Engineering"), ("IT Director", "IT"), ("Systems Administrator", "IT"),
    ("Chief Executive Officer", "Executive"), ("Chief Operating Officer", "Executive"),
    ("Founder", "Executive"), ("Chief Financial Officer", "Finance"), ("Controller", "Finance"),
    ("Head of Customer Success", "Customer Success"), ("Customer Success Manager",
    "Customer Success"), ("Support Team Lead", "Support"), ("Product Manager", "Product"),
    ("Head of Product", "Product"), ("Data Analyst", "Analytics"), ("Analytics Manager",
    "Analytics"), ("HR Business Partner", "Human Resources"), ("Procurement Manager",
    "Operations"), ("Operations Manager", "Operations"), ("Consultant", "Professional Services"),
)  # fmt: skip

# (industry, SIC code)
INDUSTRIES = (
    ("Software", "7372"), ("Information Technology", "7373"), ("Financial Services", "6199"),
    ("Banking", "6021"), ("Insurance", "6411"), ("Healthcare", "8062"),
    ("Pharmaceuticals", "2834"), ("Manufacturing", "3599"), ("Retail", "5399"),
    ("Telecommunications", "4813"), ("Education", "8221"), ("Media", "7812"),
    ("Transportation", "4213"), ("Energy", "4911"), ("Construction", "1542"),
    ("Hospitality", "7011"), ("Consulting", "8742"), ("Real Estate", "6531"),
    ("Government", "9199"), ("Non-Profit", "8399"), ("Biotechnology", "2836"),
    ("Automotive", "3711"), ("Aerospace", "3721"), ("Food and Beverage", "2099"),
)  # fmt: skip

COMPANY_PREFIXES = (
    "Northwind", "Bluefin", "Cedar", "Summit", "Harbor", "Granite", "Silverline", "Brightpath",
    "Ironwood", "Redwood", "Crescent", "Evergreen", "Pinnacle", "Riverbend", "Skyline",
    "Beacon", "Keystone", "Lighthouse", "Meridian", "Oakridge", "Quantum", "Sapphire",
    "Trailhead", "Vertex", "Willow", "Apex", "Blue Ridge", "Cobalt", "Driftwood", "Ember",
    "Falcon", "Golden Gate", "Horizon", "Juniper", "Kestrel", "Lakeshore", "Maple", "Nimbus",
    "Orchid", "Prairie", "Radiant", "Sterling", "Tidewater", "Union", "Vantage", "Westbrook",
    "Yellowstone", "Zenith", "Alder", "Birch", "Canyon", "Delta", "Eastgate", "Foxglove",
    "Glacier", "Highland", "Indigo", "Jade", "Kingsley", "Lumen", "Monarch", "Nova", "Onyx",
    "Polaris", "Quarry", "Ridgeway", "Solstice", "Topaz", "Upland", "Valor", "Wavecrest",
)  # fmt: skip
COMPANY_CORES = (
    "Analytics", "Logistics", "Health", "Software", "Systems", "Labs", "Networks", "Capital",
    "Foods", "Energy", "Robotics", "Media", "Dynamics", "Solutions", "Partners", "Industries",
    "Bio", "Cloud", "Data", "Security", "Learning", "Motors", "Financial", "Retail",
    "Pharma", "Telecom", "Aerospace", "Consulting", "Properties", "Manufacturing",
)  # fmt: skip
COMPANY_SUFFIXES = ("", "", "", " Inc.", " LLC", " Group", " Corp.", " Co.", " GmbH", " Ltd.")
TLDS = (".com", ".com", ".com", ".io", ".co", ".net", ".ai")

# (state code, city, area code, ZIP prefix, time zone)
US_PLACES = (
    ("CA", "San Francisco", "415", "941", "America/Los_Angeles"),
    ("CA", "Los Angeles", "213", "900", "America/Los_Angeles"),
    ("CA", "San Diego", "619", "921", "America/Los_Angeles"),
    ("CA", "San Jose", "408", "951", "America/Los_Angeles"),
    ("WA", "Seattle", "206", "981", "America/Los_Angeles"),
    ("OR", "Portland", "503", "972", "America/Los_Angeles"),
    ("NY", "New York", "212", "100", "America/New_York"),
    ("MA", "Boston", "617", "021", "America/New_York"),
    ("IL", "Chicago", "312", "606", "America/Chicago"),
    ("TX", "Austin", "512", "787", "America/Chicago"),
    ("TX", "Dallas", "214", "752", "America/Chicago"),
    ("TX", "Houston", "713", "770", "America/Chicago"),
    ("CO", "Denver", "303", "802", "America/Denver"),
    ("GA", "Atlanta", "404", "303", "America/New_York"),
    ("FL", "Miami", "305", "331", "America/New_York"),
    ("NC", "Raleigh", "919", "276", "America/New_York"),
    ("PA", "Philadelphia", "215", "191", "America/New_York"),
    ("VA", "Arlington", "703", "222", "America/New_York"),
    ("MN", "Minneapolis", "612", "554", "America/Chicago"),
    ("UT", "Salt Lake City", "801", "841", "America/Denver"),
    ("AZ", "Phoenix", "602", "850", "America/Phoenix"),
    ("MI", "Detroit", "313", "482", "America/Detroit"),
    ("OH", "Columbus", "614", "432", "America/New_York"),
    ("TN", "Nashville", "615", "372", "America/Chicago"),
)  # fmt: skip
# (country, state or None, city, phone prefix, postal code pattern prefix, time zone)
WORLD_PLACES = (
    ("United Kingdom", None, "London", "+44 20", "EC1A", "Europe/London"),
    ("United Kingdom", None, "Manchester", "+44 161", "M1", "Europe/London"),
    ("Germany", "Berlin", "Berlin", "+49 30", "10", "Europe/Berlin"),
    ("Germany", "Bavaria", "Munich", "+49 89", "80", "Europe/Berlin"),
    ("France", None, "Paris", "+33 1", "75", "Europe/Paris"),
    ("Netherlands", None, "Amsterdam", "+31 20", "10", "Europe/Amsterdam"),
    ("Canada", "ON", "Toronto", "+1 416", "M5", "America/Toronto"),
    ("Canada", "BC", "Vancouver", "+1 604", "V6", "America/Vancouver"),
    ("Australia", "NSW", "Sydney", "+61 2", "20", "Australia/Sydney"),
    ("India", "Karnataka", "Bengaluru", "+91 80", "56", "Asia/Kolkata"),
    ("Singapore", None, "Singapore", "+65", "01", "Asia/Singapore"),
    ("Japan", "Tokyo", "Tokyo", "+81 3", "10", "Asia/Tokyo"),
)  # fmt: skip
STREETS = (
    "Main", "Oak", "Maple", "Market", "Mission", "Howard", "Park", "Washington", "Lake", "Hill",
    "Pine", "Cedar", "Elm", "Sunset", "Broadway", "Madison", "Franklin", "Jefferson", "River",
)  # fmt: skip
STREET_KINDS = ("St", "Ave", "Blvd", "Rd", "Way", "Dr", "Ln", "Pl")

LEAD_STATUSES = ("Open", "Open", "Contacted", "Working", "Qualified", "Nurture", "Disqualified",
                 "Customer")  # fmt: skip
LEAD_SOURCES = (
    "Website", "Website", "Dynamic Chat", "Webinar", "Trade Show", "Paid Search",
    "Organic Search", "Referral", "List Import", "Partner", "Content Syndication",
)  # fmt: skip
LEAD_ROLES = ("Decision Maker", "Influencer", "Evaluator", "End User", "Champion")
RATINGS = ("Hot", "Warm", "Cold")
SOURCE_TYPES = ("Web page visit", "Web form fillout", "List import", "Web service API",
                "New lead")  # fmt: skip
UNSUBSCRIBE_REASONS = ("Too many emails", "No longer interested", "Never signed up",
                       "Content not relevant")  # fmt: skip
DO_NOT_CALL_REASONS = ("Requested by lead", "Wrong number", "Legal hold")
PRODUCT_INTERESTS = ("Chat", "Meetings", "Analytics", "Routing", "Integrations", "Security")
CUSTOMER_TIERS = ("Free", "Starter", "Growth", "Enterprise")
CHAT_TOPICS = ("Pricing", "Demo request", "Support", "Integrations", "Security review",
               "Partnership", "Careers", "Billing")  # fmt: skip
LANGUAGES = ("English", "English", "English", "German", "French", "Spanish", "Japanese",
             "Portuguese")  # fmt: skip

# Activity attributes
PAGES = (
    "/", "/pricing", "/product", "/product/chat", "/product/meetings", "/product/analytics",
    "/customers", "/blog", "/blog/conversational-marketing-guide", "/blog/b2b-chatbots",
    "/blog/lead-routing-best-practices", "/resources/ebook-pipeline", "/webinars",
    "/webinars/q3-roadmap", "/demo", "/contact", "/about", "/careers", "/integrations",
    "/integrations/marketo", "/security", "/docs", "/docs/getting-started", "/partners",
)  # fmt: skip
SITE = "www.example.com"
FORMS = (
    (1001, "Contact Us"), (1002, "Request a Demo"), (1003, "Ebook Download"),
    (1004, "Webinar Registration"), (1005, "Newsletter Signup"), (1006, "Free Trial"),
)  # fmt: skip
EMAILS = ((2001, "Welcome Series 1"), (2002, "Welcome Series 2"), (2003, "Monthly Newsletter"),
          (2004, "Webinar Invite"), (2005, "Product Update"), (2006, "Event Follow-up"),
          (2007, "Nurture - Pricing"), (2008, "Nurture - Case Study"))  # fmt: skip
CAMPAIGNS = ((3001, "Newsletter Send"), (3002, "Welcome Flow"), (3003, "Webinar Promotion"),
             (3004, "Lead Scoring"), (3005, "Nurture Engine"), (3006, "Data Hygiene"))  # fmt: skip
MOMENTS = ("Visited pricing page twice", "Asked about integrations in chat",
           "Downloaded the pipeline ebook", "Attended the roadmap webinar",
           "Opened three emails this week", "Requested a security review")  # fmt: skip
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
)
REFERRERS = ("", "https://www.google.com/", "https://www.linkedin.com/", "https://news.example.org/",
             "https://www.bing.com/")  # fmt: skip
