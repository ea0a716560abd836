"""Invented names for demo pupils and parents, by family background (pure data).

Families with a home language other than English get names from that background, so a contact
who prefers Polish messages looks like a Polish family. All combinations are made up.
"""
from __future__ import annotations

ENGLISH = {
    "F": ("Olivia", "Amelia", "Isla", "Ava", "Ivy", "Freya", "Lily", "Florence", "Mia", "Willow", "Rosie",
          "Sophia", "Isabella", "Grace", "Daisy", "Sienna", "Poppy", "Elsie", "Emily", "Ella", "Evelyn",
          "Phoebe", "Sofia", "Evie", "Charlotte", "Harper", "Matilda", "Ruby", "Alice", "Chloe", "Jessica",
          "Erin", "Holly", "Megan", "Lucy", "Hannah", "Zara", "Maisie", "Layla", "Millie"),
    "M": ("Noah", "Oliver", "George", "Arthur", "Leo", "Harry", "Oscar", "Archie", "Henry", "Theodore",
          "Freddie", "Jack", "Charlie", "Theo", "Alfie", "Jacob", "Thomas", "Finley", "Arlo", "William",
          "Lucas", "Roman", "Tommy", "Isaac", "Teddy", "Albert", "Ethan", "Joshua", "Reggie", "Max",
          "Mason", "Riley", "Dylan", "Samuel", "Logan", "Elliot", "Kai", "Louie", "Jude", "Ronnie"),
    "surnames": ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
                 "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall",
                 "Wood", "Jackson", "Clarke", "Harris", "Lewis", "Hughes", "Edwards", "Turner", "Hill",
                 "Moore", "Cooper", "Ward", "Morris", "King", "Baker", "Harrison", "Morgan", "Allen",
                 "James", "Scott", "Phillips", "Watson", "Davis", "Parker", "Bennett", "Young", "Price",
                 "Griffiths", "Carter", "Mitchell", "Kelly", "Cook", "Bailey", "Shaw", "Richardson",
                 "Chapman", "Marshall", "Fletcher", "Ellis", "Reid", "Okafor", "Mensah", "Campbell",
                 "Murphy", "Gray", "Knight", "Webb", "Booth", "Dixon", "Lloyd", "Barker", "Holmes"),
}

BY_LANGUAGE: dict[str, dict[str, tuple[str, ...]]] = {
    "pl": {
        "F": ("Zofia", "Zuzanna", "Julia", "Maja", "Hanna", "Lena", "Alicja", "Oliwia", "Natalia", "Wiktoria"),
        "M": ("Jakub", "Antoni", "Jan", "Szymon", "Filip", "Aleksander", "Franciszek", "Mikolaj", "Kacper", "Wojciech"),
        "surnames": ("Nowak", "Kowalski", "Wisniewski", "Wojcik", "Kaminski", "Lewandowski", "Zielinski", "Szymanski"),
    },
    "ur": {
        "F": ("Aisha", "Maryam", "Fatima", "Zainab", "Hafsa", "Amna", "Inaya", "Haniya", "Sana", "Mahnoor"),
        "M": ("Muhammad", "Ibrahim", "Yusuf", "Ayaan", "Hamza", "Zayan", "Bilal", "Usman", "Imran", "Rayyan"),
        "surnames": ("Khan", "Hussain", "Ahmed", "Ali", "Akhtar", "Iqbal", "Mahmood", "Raza", "Shah", "Bibi"),
    },
    "ro": {
        "F": ("Maria", "Elena", "Ioana", "Andreea", "Daria", "Ana", "Sara", "Bianca", "Alexandra", "Teodora"),
        "M": ("Andrei", "Alexandru", "Stefan", "David", "Mihai", "Luca", "Matei", "Gabriel", "Ionut", "Darius"),
        "surnames": ("Popescu", "Ionescu", "Popa", "Dumitru", "Stan", "Stoica", "Gheorghe", "Rusu", "Munteanu"),
    },
    "ar": {
        "F": ("Nour", "Layan", "Rania", "Yasmin", "Salma", "Lina", "Huda", "Malak", "Jana", "Reem"),
        "M": ("Omar", "Ahmad", "Khalid", "Adam", "Yahya", "Tariq", "Karim", "Sami", "Hassan", "Ziad"),
        "surnames": ("Haddad", "Mansour", "Nasser", "Saleh", "Hamdan", "Aziz", "Farouk", "Darwish", "Khalil"),
    },
    "pt": {
        "F": ("Beatriz", "Leonor", "Matilde", "Carolina", "Mariana", "Ines", "Lara", "Francisca", "Joana", "Rita"),
        "M": ("Joao", "Rodrigo", "Tiago", "Martim", "Duarte", "Goncalo", "Santiago", "Miguel", "Rafael", "Diogo"),
        "surnames": ("Silva", "Santos", "Ferreira", "Pereira", "Oliveira", "Costa", "Rodrigues", "Martins", "Sousa"),
    },
    # Home languages whose families chose English for messages in the demo.
    "bn": {
        "F": ("Ayesha", "Tasnim", "Nusrat", "Sumaiya", "Farhana", "Jannat", "Riya", "Anika"),
        "M": ("Arif", "Rahim", "Sakib", "Tanvir", "Fahim", "Nabil", "Raihan", "Imtiaz"),
        "surnames": ("Begum", "Uddin", "Rahman", "Islam", "Miah", "Chowdhury", "Hossain"),
    },
    "so": {
        "F": ("Hodan", "Ayan", "Sagal", "Ifrah", "Hibo", "Nasra", "Sahra", "Ubah"),
        "M": ("Abdi", "Mohamed", "Liban", "Hassan", "Yasin", "Abdirahman", "Ilyas", "Mahad"),
        "surnames": ("Warsame", "Abdullahi", "Farah", "Osman", "Jama", "Aden", "Hersi"),
    },
}

# Home languages of EAL families, with their weight: the five the message templates are
# translated into (pl, ur, ro, ar, pt) and two whose families read English messages.
EAL_LANGUAGES: tuple[tuple[str, int], ...] = (("pl", 26), ("ur", 22), ("ro", 18), ("ar", 10), ("pt", 9), ("bn", 9), ("so", 6))
MESSAGE_LANGUAGES = frozenset({"pl", "ur", "ro", "ar", "pt"})
MUSLIM_BACKGROUNDS = frozenset({"ur", "ar", "bn", "so"})  # some mark Eid with R (religious observance)

SHORT_FORMS = {"Alexander": "Alex", "Theodore": "Theo", "Isabella": "Bella", "Samuel": "Sam", "Joshua": "Josh",
               "Aleksander": "Olek", "Muhammad": "Mo", "Alexandra": "Alex", "Charlotte": "Lottie",
               "Florence": "Flo", "Wojciech": "Wojtek", "Abdirahman": "Abdi"}
