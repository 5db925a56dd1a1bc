using System.Text.Encodings.Web;
using System.Text.Json;

namespace ScimFunctions.Cli.Samples;

/// <summary>Generates the bundled sample directory (Contoso, day 1 and day 2) and the Genesys emulator seed.
/// Deterministic: the same code always writes the same bytes, so the committed files under <c>samples/</c>
/// can be regenerated and checked (<c>scimfn generate-samples samples</c>).</summary>
internal static class SampleCompany
{
    public const string Day1File = "contoso-day1.json";
    public const string Day2File = "contoso-day2.json";
    public const string EmulatorSeedFile = "emulator-seed.json";
    public const string EntitlementsFile = "entitlements.json";

    private const string Domain = "contoso.com";

    /// <summary>Writes the three sample files into <paramref name="directory"/>; returns their paths.</summary>
    public static IReadOnlyList<string> WriteAll(string directory)
    {
        Directory.CreateDirectory(directory);
        var (day1, day2, seed) = Generate();
        var files = new (string Name, byte[] Bytes)[] { (Day1File, day1), (Day2File, day2), (EmulatorSeedFile, seed), (EntitlementsFile, GenerateEntitlements()) };
        var paths = new List<string>();
        foreach (var (name, bytes) in files)
        {
            var path = Path.Combine(directory, name);
            File.WriteAllBytes(path, bytes);
            paths.Add(path);
        }

        return paths;
    }

    /// <summary>The day-1 company and the day-2 changes as bytes, without touching the disk (for tests).</summary>
    public static (byte[] Day1, byte[] Day2, byte[] EmulatorSeed) Generate()
    {
        var company = new Company(new SampleRandom(20240601));
        var day1 = company.Snapshot();
        company.ApplyDay2();
        return (day1, company.Snapshot(), company.EmulatorSeed());
    }

    /// <summary>The <c>Sync__Entitlements</c> rules of the sample company: roles, division, routing skills and
    /// languages from its contact-center groups (the group ids are the snapshots').</summary>
    public static byte[] GenerateEntitlements() => new Company(new SampleRandom(20240601)).Entitlements();

    private sealed class Person
    {
        public required string Id { get; init; }
        public required string GivenName { get; set; }
        public required string Surname { get; set; }
        public required string Upn { get; set; }
        public required string JobTitle { get; set; }
        public required string Department { get; set; }
        public required string EmployeeId { get; init; }
        public required string Office { get; init; }
        public string? BusinessPhone { get; set; }
        public string? MobilePhone { get; set; }
        public Person? Manager { get; set; }
        public bool Enabled { get; set; } = true;
        public string DisplayName => $"{GivenName} {Surname}";
    }

    private sealed class Group(string id, string displayName)
    {
        public string Id { get; } = id;
        public string DisplayName { get; } = displayName;
        public List<Person> Members { get; } = [];

        public void Add(Person person)
        {
            if (!Members.Contains(person))
            {
                Members.Add(person);
            }
        }

        public void Remove(Person person) => Members.Remove(person);
    }

    private sealed record Office(string Name, string CountryCode, string AreaCode);

    private sealed class Company
    {
        private static readonly string[] GivenNames =
        [
            "Aaliyah", "Adam", "Adele", "Ahmed", "Aiko", "Alan", "Alex", "Alicia", "Amara", "Amir", "Ana", "Andre",
            "Angela", "Anil", "Anna", "Ben", "Bianca", "Brandon", "Carla", "Carlos", "Carmen", "Chen", "Chloe",
            "Chris", "Claire", "Daniel", "Daniela", "David", "Deepa", "Diego", "Elena", "Eli", "Emily", "Emma",
            "Eric", "Fatima", "Felix", "Fiona", "Gabriel", "Grace", "Hana", "Hannah", "Hector", "Ian", "Ines",
            "Isabel", "Ivan", "Jack", "Jamal", "James", "Jana", "Javier", "Jenna", "Jin", "Joao", "John", "Jonas",
            "Julia", "Kai", "Karen", "Kenji", "Kevin", "Laura", "Leila", "Liam", "Lina", "Lucas", "Lucia", "Maya",
            "Marco", "Maria", "Mark", "Marta", "Mateo", "Mei", "Mia", "Michael", "Mohammed", "Nadia", "Nathan",
            "Nina", "Noah", "Olivia", "Omar", "Pablo", "Paula", "Pedro", "Priya", "Rafael", "Rahul", "Rosa", "Ryan",
            "Sakura", "Samuel", "Sara", "Sofia", "Sven", "Tariq", "Thomas", "Tomas", "Valentina", "Victor", "Yara",
            "Yusuf", "Zoe",
        ];

        private static readonly string[] Surnames =
        [
            "Abbott", "Adams", "Ahmed", "Alvarez", "Andersen", "Baker", "Bauer", "Becker", "Bennett", "Brooks",
            "Campbell", "Castro", "Chen", "Clarke", "Costa", "Cruz", "Dubois", "Edwards", "Evans", "Fischer",
            "Flores", "Garcia", "Gomez", "Gonzalez", "Gray", "Green", "Gupta", "Hall", "Hansen", "Harris", "Hughes",
            "Ito", "Jackson", "Jensen", "Johnson", "Kaur", "Kelly", "Khan", "Kim", "Klein", "Kowalski", "Lambert",
            "Larsen", "Lee", "Lopez", "Martin", "Martinez", "Meyer", "Miller", "Moreau", "Morales", "Murphy",
            "Nakamura", "Nguyen", "Nielsen", "Novak", "OBrien", "Okafor", "Ortiz", "Park", "Patel", "Perez",
            "Petrov", "Reyes", "Richter", "Rivera", "Roberts", "Rossi", "Sanchez", "Santos", "Schmidt", "Shah",
            "Silva", "Singh", "Smith", "Sato", "Suzuki", "Tanaka", "Taylor", "Thomas", "Torres", "Turner", "Vargas",
            "Wagner", "Walker", "Wang", "Weber", "White", "Williams", "Wilson", "Wong", "Wright", "Yamamoto",
            "Young", "Zhang",
        ];

        private static readonly Office[] Offices =
        [
            new("Redmond", "1", "425"),
            new("Seattle", "1", "206"),
            new("Dallas", "1", "214"),
            new("Charlotte", "1", "704"),
        ];

        /// <summary>Positions (in hiring order) of the accounts disabled on day 1: agents, sales, support, IT staff.</summary>
        private static readonly int[] DisabledOnDay1 = [30, 77, 150, 201, 260];

        private readonly SampleRandom _random;
        private readonly List<Person> _people = [];
        private readonly List<Group> _groups = [];
        private readonly HashSet<string> _upns = new(StringComparer.OrdinalIgnoreCase);
        private readonly Dictionary<string, int> _phoneSequence = [];
        private int _nextEmployeeNumber = 100001;

        public Company(SampleRandom random)
        {
            _random = random;
            BuildDay1();
        }

        private Group G(string name) => _groups.Single(g => g.DisplayName == name);

        private List<Person> InDepartment(string department, string? title = null) =>
            _people.Where(p => p.Department == department && (title is null || p.JobTitle == title)).ToList();

        private void BuildDay1()
        {
            foreach (var name in new[]
            {
                "Contact Center Agents", "Contact Center Supervisors", "Queue - Billing", "Queue - Orders",
                "Queue - Returns", "Queue - Technical Support", "Queue - Sales Inbound", "Queue - VIP Customers",
                "Skill - Spanish", "Skill - French", "Skill - German", "Sales Team", "Sales Managers",
                "Support Engineers", "Support Escalations", "Quality Management", "Workforce Management",
                "Genesys Administrators", "People Managers", "All Employees - Contact Center",
            })
            {
                _groups.Add(new Group(_random.NextGuid(), name));
            }

            var ceo = Hire("Chief Executive Officer", "Executive", null);
            Hire("Executive Assistant", "Executive", ceo);

            // Customer Service: the contact center, most of Genesys' users.
            var ccDirector = Hire("Director of Customer Service", "Customer Service", ceo);
            var supervisors = Enumerable.Range(0, 8).Select(_ => Hire("Contact Center Supervisor", "Customer Service", ccDirector)).ToList();
            for (var i = 0; i < 112; i++)
            {
                var supervisor = supervisors[i % supervisors.Count];
                var title = i % 9 == 0 ? "Senior Customer Service Agent" : "Customer Service Agent";
                Hire(title, "Customer Service", supervisor);
            }

            Hire("Quality Analyst", "Customer Service", ccDirector);
            Hire("Quality Analyst", "Customer Service", ccDirector);
            Hire("Workforce Planner", "Customer Service", ccDirector);
            Hire("Workforce Planner", "Customer Service", ccDirector);

            var salesVp = Hire("VP of Sales", "Sales", ceo);
            var salesManagers = Enumerable.Range(0, 4).Select(_ => Hire("Sales Manager", "Sales", salesVp)).ToList();
            for (var i = 0; i < 38; i++)
            {
                Hire(i % 3 == 0 ? "Sales Development Representative" : "Account Executive", "Sales", salesManagers[i % 4]);
            }

            var supportDirector = Hire("Director of Technical Support", "Technical Support", ceo);
            var supportManagers = Enumerable.Range(0, 3).Select(_ => Hire("Support Manager", "Technical Support", supportDirector)).ToList();
            for (var i = 0; i < 36; i++)
            {
                Hire(i % 4 == 0 ? "Senior Support Engineer" : "Support Engineer", "Technical Support", supportManagers[i % 3]);
            }

            AddTeam("Marketing", "VP of Marketing", "Marketing Manager", ["Marketing Specialist", "Content Writer", "Designer"], 2, 16, ceo);
            AddTeam("Finance", "Chief Financial Officer", "Finance Manager", ["Financial Analyst", "Accountant"], 2, 12, ceo);
            AddTeam("Human Resources", "HR Director", "HR Manager", ["HR Generalist", "Recruiter"], 1, 10, ceo);
            AddTeam("IT", "IT Director", "IT Manager", ["Systems Engineer", "Service Desk Analyst", "Telephony Engineer"], 2, 14, ceo);
            AddTeam("Operations", "VP of Operations", "Operations Manager", ["Operations Analyst", "Facilities Coordinator"], 2, 11, ceo);
            AddTeam("Legal", "General Counsel", "Legal Manager", ["Paralegal", "Counsel"], 1, 4, ceo);

            // A few accounts are disabled (leave of absence, awaiting offboarding); one comes back on day 2.
            foreach (var person in DisabledOnDay1.Select(i => _people[i]))
            {
                person.Enabled = false;
            }

            AssignGroups();
        }

        private void AddTeam(string department, string headTitle, string managerTitle, string[] titles, int managers, int staff, Person ceo)
        {
            var head = Hire(headTitle, department, ceo);
            var teamManagers = Enumerable.Range(0, managers).Select(_ => Hire(managerTitle, department, head)).ToList();
            for (var i = 0; i < staff; i++)
            {
                Hire(titles[i % titles.Length], department, teamManagers[i % managers]);
            }
        }

        private void AssignGroups()
        {
            string[] queues = ["Queue - Billing", "Queue - Orders", "Queue - Returns", "Queue - VIP Customers"];
            foreach (var agent in _people.Where(p => p.JobTitle.Contains("Customer Service Agent", StringComparison.Ordinal)))
            {
                G("Contact Center Agents").Add(agent);
                G("All Employees - Contact Center").Add(agent);
                G(queues[_random.Next(queues.Length - 1)]).Add(agent);
                if (agent.JobTitle.StartsWith("Senior", StringComparison.Ordinal) || _random.Next(5) == 0)
                {
                    G("Queue - VIP Customers").Add(agent);
                }

                var skill = _random.Next(10);
                if (skill < 3)
                {
                    G(skill switch { 0 => "Skill - Spanish", 1 => "Skill - French", _ => "Skill - German" }).Add(agent);
                }
            }

            foreach (var person in _people)
            {
                switch (person.JobTitle)
                {
                    case "Contact Center Supervisor":
                        G("Contact Center Supervisors").Add(person);
                        G("Quality Management").Add(person);
                        G("All Employees - Contact Center").Add(person);
                        break;
                    case "Director of Customer Service":
                        G("Contact Center Supervisors").Add(person);
                        G("All Employees - Contact Center").Add(person);
                        break;
                    case "Quality Analyst":
                        G("Quality Management").Add(person);
                        G("All Employees - Contact Center").Add(person);
                        break;
                    case "Workforce Planner":
                        G("Workforce Management").Add(person);
                        G("All Employees - Contact Center").Add(person);
                        break;
                    case "Account Executive" or "Sales Development Representative":
                        G("Sales Team").Add(person);
                        if (person.JobTitle.StartsWith("Sales Development", StringComparison.Ordinal))
                        {
                            G("Queue - Sales Inbound").Add(person);
                        }

                        break;
                    case "Sales Manager" or "VP of Sales":
                        G("Sales Managers").Add(person);
                        G("Sales Team").Add(person);
                        break;
                    case "Support Engineer":
                        G("Support Engineers").Add(person);
                        G("Queue - Technical Support").Add(person);
                        break;
                    case "Senior Support Engineer" or "Support Manager":
                        G("Support Engineers").Add(person);
                        G("Support Escalations").Add(person);
                        G("Queue - Technical Support").Add(person);
                        break;
                    case "Telephony Engineer" or "IT Manager":
                        G("Genesys Administrators").Add(person);
                        break;
                }
            }

            foreach (var manager in _people.Where(p => _people.Any(r => r.Manager == p)))
            {
                G("People Managers").Add(manager);
            }
        }

        private Person Hire(string title, string department, Person? manager)
        {
            var givenName = GivenNames[_random.Next(GivenNames.Length)];
            var surname = Surnames[_random.Next(Surnames.Length)];
            var office = department is "Customer Service" or "Technical Support"
                ? Offices[2 + _random.Next(2)]
                : Offices[_random.Next(2)];
            var person = new Person
            {
                Id = _random.NextGuid(),
                GivenName = givenName,
                Surname = surname,
                Upn = UniqueUpn(givenName, surname),
                JobTitle = title,
                Department = department,
                EmployeeId = (_nextEmployeeNumber++).ToString(),
                Office = office.Name,
                Manager = manager,
            };
            // Entra holds phone numbers as people typed them; the mapping normalises them to E.164.
            if (_random.Next(10) < 8)
            {
                person.BusinessPhone = Phone(office);
            }

            if (_random.Next(10) < 6)
            {
                person.MobilePhone = Phone(Offices[_random.Next(Offices.Length)], mobile: true);
            }

            _people.Add(person);
            return person;
        }

        private string UniqueUpn(string givenName, string surname)
        {
            var local = $"{givenName}.{surname}".ToLowerInvariant();
            var upn = $"{local}@{Domain}";
            for (var n = 2; !_upns.Add(upn); n++)
            {
                upn = $"{local}{n}@{Domain}";
            }

            return upn;
        }

        private void ReleaseUpn(string upn) => _upns.Remove(upn);

        private string Phone(Office office, bool mobile = false)
        {
            // 555-0100..0199 are reserved for fiction in North America; wrap within that range.
            var key = office.AreaCode + (mobile ? "m" : "b");
            var sequence = _phoneSequence.GetValueOrDefault(key);
            _phoneSequence[key] = sequence + 1;
            var line = 100 + (sequence % 100);
            return _random.Next(4) switch
            {
                0 => $"+{office.CountryCode} {office.AreaCode} 555 0{line}",
                1 => $"+{office.CountryCode} ({office.AreaCode}) 555-0{line}",
                2 => $"+{office.CountryCode}-{office.AreaCode}-555-0{line}",
                _ => $"+{office.CountryCode}{office.AreaCode}5550{line}",
            };
        }

        /// <summary>Day 2: joiners, movers, a rename, leavers and a re-hire, as a real HR week would bring.</summary>
        public void ApplyDay2()
        {
            var rehire = _people.First(p => !p.Enabled && p.Department == "Customer Service");
            var agents = InDepartment("Customer Service", "Customer Service Agent").Where(p => p.Enabled).ToList();
            var supervisors = InDepartment("Customer Service", "Contact Center Supervisor");
            var salesManagers = InDepartment("Sales", "Sales Manager");
            var supportManagers = InDepartment("Technical Support", "Support Manager");

            // Leavers: three removed from the directory, three disabled (still in their groups, as Entra keeps them).
            foreach (var leaver in new[] { agents[3], agents[41], InDepartment("Marketing", "Designer")[0] })
            {
                _people.Remove(leaver);
                foreach (var group in _groups)
                {
                    group.Remove(leaver);
                }
            }

            foreach (var leaver in new[] { agents[12], agents[57], InDepartment("Sales", "Account Executive")[5] })
            {
                leaver.Enabled = false;
            }

            // Re-hire: an agent disabled on day 1 comes back.
            rehire.Enabled = true;

            // Movers: department changes with their group moves.
            var toSales = agents[20];
            toSales.Department = "Sales";
            toSales.JobTitle = "Sales Development Representative";
            toSales.Manager = salesManagers[1];
            foreach (var group in _groups.Where(g => g.DisplayName.StartsWith("Queue - ", StringComparison.Ordinal)
                         || g.DisplayName is "Contact Center Agents" or "All Employees - Contact Center"))
            {
                group.Remove(toSales);
            }

            G("Sales Team").Add(toSales);
            G("Queue - Sales Inbound").Add(toSales);

            var toIt = InDepartment("Technical Support", "Support Engineer")[4];
            toIt.Department = "IT";
            toIt.JobTitle = "Telephony Engineer";
            toIt.Manager = InDepartment("IT", "IT Manager")[0];
            G("Support Engineers").Remove(toIt);
            G("Queue - Technical Support").Remove(toIt);
            G("Genesys Administrators").Add(toIt);

            var toSupport = agents[33];
            toSupport.Department = "Technical Support";
            toSupport.JobTitle = "Support Engineer";
            toSupport.Manager = supportManagers[2];
            foreach (var group in _groups.Where(g => g.DisplayName.StartsWith("Queue - ", StringComparison.Ordinal)
                         || g.DisplayName is "Contact Center Agents"))
            {
                group.Remove(toSupport);
            }

            G("Support Engineers").Add(toSupport);
            G("Queue - Technical Support").Add(toSupport);

            // Promotions: title changes; one agent becomes a supervisor and takes over part of a team.
            agents[7].JobTitle = "Senior Customer Service Agent";
            agents[48].JobTitle = "Senior Customer Service Agent";
            G("Queue - VIP Customers").Add(agents[48]);
            var promoted = agents[60];
            promoted.JobTitle = "Contact Center Supervisor";
            promoted.Manager = supervisors[0].Manager;
            G("Contact Center Agents").Remove(promoted);
            G("Contact Center Supervisors").Add(promoted);
            G("Quality Management").Add(promoted);
            G("People Managers").Add(promoted);

            // Manager changes: team rebalancing onto the new supervisor and between supervisors.
            foreach (var agent in new[] { agents[9], agents[17], agents[25], agents[65] })
            {
                agent.Manager = promoted;
            }

            agents[70].Manager = supervisors[5];
            agents[71].Manager = supervisors[6];

            // Group moves: agents switch queues; two pick up a language skill.
            foreach (var agent in new[] { agents[10], agents[11], agents[28], agents[44], agents[52] })
            {
                foreach (var queue in new[] { "Queue - Billing", "Queue - Orders" })
                {
                    G(queue).Remove(agent);
                }

                G("Queue - Returns").Add(agent);
            }

            G("Skill - Spanish").Add(agents[14]);
            G("Skill - French").Add(agents[15]);

            // New phone numbers.
            agents[2].MobilePhone = "+1 (206) 555-0187";
            InDepartment("Finance", "Financial Analyst")[1].BusinessPhone = "+1 425 555 0199";

            // Rename: a surname change brings a new userPrincipalName and mail.
            var renamed = agents[5];
            var newSurname = renamed.Surname == "Carter" ? "Hayes" : "Carter";
            ReleaseUpn(renamed.Upn);
            renamed.Surname = newSurname;
            renamed.Upn = UniqueUpn(renamed.GivenName, newSurname);

            // Joiners: a new agent class and a few other hires.
            string[] queues = ["Queue - Billing", "Queue - Orders", "Queue - Returns"];
            for (var i = 0; i < 6; i++)
            {
                var joiner = Hire("Customer Service Agent", "Customer Service", supervisors[(i * 3) % supervisors.Count]);
                G("Contact Center Agents").Add(joiner);
                G("All Employees - Contact Center").Add(joiner);
                G(queues[i % queues.Length]).Add(joiner);
                if (i == 2)
                {
                    G("Skill - Spanish").Add(joiner);
                }
            }

            var ae = Hire("Account Executive", "Sales", salesManagers[2]);
            G("Sales Team").Add(ae);
            var engineer = Hire("Support Engineer", "Technical Support", supportManagers[0]);
            G("Support Engineers").Add(engineer);
            G("Queue - Technical Support").Add(engineer);
            Hire("Financial Analyst", "Finance", InDepartment("Finance", "Finance Manager")[0]);
        }

        public byte[] Snapshot()
        {
            using var stream = new MemoryStream();
            using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, NewLine = "\n", Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                json.WriteStartObject();
                json.WriteStartArray("users");
                foreach (var person in _people)
                {
                    json.WriteStartObject();
                    json.WriteString("id", person.Id);
                    json.WriteString("userPrincipalName", person.Upn);
                    json.WriteString("displayName", person.DisplayName);
                    json.WriteString("givenName", person.GivenName);
                    json.WriteString("surname", person.Surname);
                    json.WriteBoolean("accountEnabled", person.Enabled);
                    json.WriteString("mail", person.Upn);
                    json.WriteString("jobTitle", person.JobTitle);
                    json.WriteString("department", person.Department);
                    json.WriteString("employeeId", person.EmployeeId);
                    json.WriteString("officeLocation", person.Office);
                    WriteNullable(json, "mobilePhone", person.MobilePhone);
                    json.WriteStartArray("businessPhones");
                    if (person.BusinessPhone is not null)
                    {
                        json.WriteStringValue(person.BusinessPhone);
                    }

                    json.WriteEndArray();
                    if (person.Manager is not null)
                    {
                        json.WriteStartObject("manager");
                        json.WriteString("id", person.Manager.Id);
                        json.WriteEndObject();
                    }

                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteStartArray("groups");
                foreach (var group in _groups)
                {
                    json.WriteStartObject();
                    json.WriteString("id", group.Id);
                    json.WriteString("displayName", group.DisplayName);
                    json.WriteStartArray("members");
                    foreach (var member in group.Members)
                    {
                        json.WriteStartObject();
                        json.WriteString("id", member.Id);
                        json.WriteEndObject();
                    }

                    json.WriteEndArray();
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            stream.WriteByte((byte)'\n');
            return stream.ToArray();
        }

        public byte[] Entitlements()
        {
            // group, roles, division (priority), skills, languages; names as a Genesys org would spell them.
            var rules = new (string Group, string[] Roles, (string Name, int Priority)? Division, (string Name, double Proficiency)[] Skills, (string Name, double Proficiency)[] Languages)[]
            {
                ("All Employees - Contact Center", [], ("Contact Center", 10), [], [("English", 5)]),
                ("Contact Center Agents", ["Agent"], null, [], []),
                ("Contact Center Supervisors", ["Supervisor"], null, [], []),
                ("Quality Management", ["Quality Evaluator"], null, [], []),
                ("Queue - Billing", [], null, [("Billing", 3)], []),
                ("Queue - Orders", [], null, [("Orders", 3)], []),
                ("Queue - Returns", [], null, [("Returns", 3)], []),
                ("Queue - Technical Support", [], null, [("Technical Support", 3)], []),
                ("Queue - Sales Inbound", [], null, [("Sales", 3)], []),
                ("Queue - VIP Customers", [], null, [("VIP", 4), ("Billing", 4)], []),
                ("Skill - Spanish", [], null, [], [("Spanish", 4)]),
                ("Skill - French", [], null, [], [("French", 4)]),
                ("Skill - German", [], null, [], [("German", 4)]),
            };
            using var stream = new MemoryStream();
            using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, NewLine = "\n", Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                json.WriteStartObject();
                json.WriteString("defaultDivision", "Home");
                json.WriteStartArray("rules");
                foreach (var rule in rules)
                {
                    json.WriteStartObject();
                    json.WriteString("group", G(rule.Group).Id);
                    if (rule.Roles.Length > 0)
                    {
                        json.WriteStartArray("roles");
                        foreach (var role in rule.Roles)
                        {
                            json.WriteStringValue(role);
                        }

                        json.WriteEndArray();
                    }

                    if (rule.Division is { } division)
                    {
                        json.WriteString("division", division.Name);
                        json.WriteNumber("priority", division.Priority);
                    }

                    WriteRouting(json, "skills", rule.Skills);
                    WriteRouting(json, "languages", rule.Languages);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            stream.WriteByte((byte)'\n');
            return stream.ToArray();
        }

        private static void WriteRouting(Utf8JsonWriter json, string name, (string Name, double Proficiency)[] grants)
        {
            if (grants.Length == 0)
            {
                return;
            }

            json.WriteStartArray(name);
            foreach (var (grant, proficiency) in grants)
            {
                json.WriteStartObject();
                json.WriteString("name", grant);
                json.WriteNumber("proficiency", proficiency);
                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        public byte[] EmulatorSeed()
        {
            using var stream = new MemoryStream();
            using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, NewLine = "\n", Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                json.WriteStartObject();
                json.WriteStartArray("groups");
                foreach (var group in _groups)
                {
                    json.WriteStartObject();
                    json.WriteString("displayName", group.DisplayName);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteStartArray("users");
                json.WriteEndArray();
                json.WriteEndObject();
            }

            stream.WriteByte((byte)'\n');
            return stream.ToArray();
        }

        private static void WriteNullable(Utf8JsonWriter json, string name, string? value)
        {
            if (value is null)
            {
                json.WriteNull(name);
            }
            else
            {
                json.WriteString(name, value);
            }
        }
    }

    /// <summary>SplitMix64: tiny, fast and fixed forever, unlike <see cref="Random"/>'s unspecified sequence.</summary>
    private sealed class SampleRandom(ulong seed)
    {
        private ulong _state = seed;

        public int Next(int maxExclusive) => (int)(NextUInt64() % (ulong)maxExclusive);

        public string NextGuid()
        {
            Span<byte> bytes = stackalloc byte[16];
            BitConverter.TryWriteBytes(bytes, NextUInt64());
            BitConverter.TryWriteBytes(bytes[8..], NextUInt64());
            bytes[7] = (byte)((bytes[7] & 0x0F) | 0x40); // version 4, like Entra's object ids
            bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
            return new Guid(bytes).ToString();
        }

        private ulong NextUInt64()
        {
            var z = _state += 0x9E3779B97F4A7C15;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
            return z ^ (z >> 31);
        }
    }
}
