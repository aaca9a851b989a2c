#pragma once
// Word lists for realistic fake names, titles and e-mail addresses.
#include <array>
#include <string_view>

namespace datalab::words {

inline constexpr std::array<std::string_view, 100> kFirstNames = {
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William", "Elizabeth",
    "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
    "Christopher", "Nancy", "Daniel", "Lisa", "Matthew", "Betty", "Anthony", "Margaret", "Mark", "Sandra",
    "Donald", "Ashley", "Steven", "Kimberly", "Paul", "Emily", "Andrew", "Donna", "Joshua", "Michelle",
    "Kenneth", "Dorothy", "Kevin", "Carol", "Brian", "Amanda", "George", "Melissa", "Edward", "Deborah",
    "Ronald", "Stephanie", "Timothy", "Rebecca", "Jason", "Sharon", "Jeffrey", "Laura", "Ryan", "Cynthia",
    "Jacob", "Kathleen", "Gary", "Amy", "Nicholas", "Shirley", "Eric", "Angela", "Jonathan", "Helen",
    "Stephen", "Anna", "Larry", "Brenda", "Justin", "Pamela", "Scott", "Nicole", "Brandon", "Emma",
    "Benjamin", "Samantha", "Samuel", "Katherine", "Gregory", "Christine", "Frank", "Debra", "Alexander", "Rachel",
    "Raymond", "Catherine", "Patrick", "Carolyn", "Jack", "Janet", "Dennis", "Ruth", "Jerry", "Maria"};

inline constexpr std::array<std::string_view, 100> kLastNames = {
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
    "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
    "Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes",
    "Stewart", "Morris", "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper",
    "Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson",
    "Watson", "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes",
    "Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez"};

inline constexpr std::array<std::string_view, 64> kAdjectives = {
    "Silent", "Hidden", "Lost", "Broken", "Golden", "Crimson", "Forgotten", "Endless", "Distant", "Secret",
    "Burning", "Frozen", "Hollow", "Ancient", "Wild", "Quiet", "Last", "First", "Dark", "Bright",
    "Shattered", "Restless", "Wandering", "Sleeping", "Falling", "Rising", "Bitter", "Gentle", "Savage", "Iron",
    "Silver", "Scarlet", "Velvet", "Paper", "Glass", "Stone", "Winter", "Summer", "Autumn", "Midnight",
    "Northern", "Southern", "Eastern", "Western", "Invisible", "Painted", "Faithful", "Curious", "Stolen", "Sacred",
    "Drowned", "Wounded", "Lonely", "Laughing", "Whispering", "Smoldering", "Emerald", "Hungry", "Fragile", "Furious",
    "Patient", "Reckless", "Clockwork", "Electric"};

inline constexpr std::array<std::string_view, 64> kNouns = {
    "River", "Garden", "Empire", "Mirror", "Forest", "City", "Ocean", "Crown", "Shadow", "Letter",
    "Island", "Mountain", "Kingdom", "Harbor", "Bridge", "Tower", "Road", "Storm", "Voyage", "Orchard",
    "Lantern", "Compass", "Desert", "Winter", "Song", "Promise", "Machine", "Library", "Station", "Valley",
    "Castle", "Window", "Secret", "Journey", "Dream", "Witness", "Stranger", "Map", "Circle", "Signal",
    "Archive", "Heart", "Engine", "Market", "Temple", "Canyon", "Meadow", "Prophecy", "Republic", "Labyrinth",
    "Frontier", "Daughter", "Son", "Widow", "Soldier", "Captain", "Physician", "Painter", "Thief", "Prince",
    "Queen", "Hunter", "Gardener", "Keeper"};

inline constexpr std::array<std::string_view, 10> kGenres = {
    "Fiction", "Mystery", "Science Fiction", "Fantasy", "Romance",
    "Thriller", "Biography", "History", "Poetry", "Non-fiction"};

inline constexpr std::array<std::string_view, 6> kEmailDomains = {
    "example.com", "mail.example.org", "library.test", "readers.example.net", "post.example.com",
    "inbox.example.org"};

}  // namespace datalab::words
