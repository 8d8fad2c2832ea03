import EventModel
import FastJSON

/// Sentinel entities for events, for the incident stage: the default entities every event implies
/// (who, from where, on what) and, for Defender alerts, the alert's own entity list.
///
/// Results are de-duplicated by `Entity.key` (case-insensitive) and keep first-seen order.
public enum EntityExtraction {
    /// Account from the caller (UPN, name or object id) and the caller object id, IP from the
    /// caller IP, AzureResource from a subscription-scoped resource id (tenant-level ids such as
    /// `/tenants/<id>/providers/Microsoft.aadiam` are shared by every Entra record and would join
    /// everything), CloudApplication from the app id, and Host for Defender alerts on machines.
    public static func defaultEntities(for event: Event) -> [Entity] {
        var out = EntitySet()
        if let caller = event.caller, caller != event.callerAppId { out.add(.account, caller) }
        if let oid = event.callerObjectId { out.add(.account, oid) }
        if let ip = event.callerIP, looksLikeIP(ip) { out.add(.ip, ip) }
        if let resource = event.resource, resource.subscription != nil { out.add(.azureResource, resource.raw) }
        if let app = event.callerAppId { out.add(.cloudApplication, app) }
        if event.kind == .defenderAlert { out.add(.host, compromisedHost(event)) }
        return out.entities
    }

    /// A Defender alert's entities (REST `properties.entities`, export `Entities`, or the JSON
    /// text of a `SecurityAlert.Entities` cell) with `$id`/`$ref` resolved, followed by the
    /// defaults. For any other event, the defaults.
    public static func alertEntities(for event: Event) -> [Entity] {
        var out = EntitySet()
        if event.kind == .defenderAlert {
            let root = event.record.root
            let list = root["properties"].flatMap { $0.type == .object ? $0["entities"] : nil } ?? root["Entities"]
            if let list { out.add(contentsOf: entities(fromAlertEntities: list)) }
        }
        out.add(contentsOf: defaultEntities(for: event))
        return out.entities
    }

    /// Entities from a Defender/Sentinel entity array. Objects are found by `$id` wherever they
    /// appear (.NET reference-preserving JSON lists an object once and refers to it later as
    /// `{"$ref": "5"}`), so a top-level `$ref` is followed. A string holding the array is decoded.
    public static func entities(fromAlertEntities list: JSONValue) -> [Entity] {
        var list = list
        if list.type == .string, let inner = list.innerJSON { list = inner }
        guard list.type == .array else { return [] }
        var byId: [String: JSONValue] = [:]
        indexIds(list, into: &byId, depth: 0)
        var out = EntitySet()
        for var item in list.children {
            if let ref = item["$ref"]?.scalarText, let target = byId[ref] { item = target }
            guard item.type == .object else { continue }
            entity(item, out: &out)
        }
        return out.entities
    }

    // MARK: details

    /// Sentinel drops accounts identified only by one of these names.
    static let genericAccountNames: Set<String> = [
        "admin", "administrator", "system", "root", "anonymous", "authenticated user", "network", "null",
        "local system", "localsystem", "network service",
    ]

    static func entity(_ item: JSONValue, out: inout EntitySet) {
        func t(_ key: String) -> String? { item[key].flatMap(FieldText.text) }
        guard let type = t("type").map(FieldText.lowercasedASCII) else { return }
        switch type {
        case "account":
            if let name = t("name"), let suffix = t("upnsuffix") {
                out.add(.account, "\(name)@\(suffix)")
            } else if let upn = t("userprincipalname") {
                out.add(.account, upn)
            } else if let name = t("name"), !genericAccountNames.contains(FieldText.lowercasedASCII(name)) {
                out.add(.account, t("ntdomain").map { "\($0)\\\(name)" } ?? name)
            }
            out.add(.account, t("aaduserid"))
        case "ip":
            out.add(.ip, t("address"))
        case "host":
            out.add(.host, t("hostname") ?? t("netbiosname"))
            if let azureId = t("azureid"), azureId.hasPrefix("/") { out.add(.azureResource, azureId) }
        case "azure-resource":
            out.add(.azureResource, t("resourceid"))
        case "cloud-application":
            out.add(.cloudApplication, t("appid") ?? t("name"))
        case "url":
            out.add(.url, t("url"))
        case "file":
            if let name = t("name") { out.add(.file, t("directory").map { "\($0)\\\(name)" } ?? name) }
        case "process":
            out.add(.process, t("commandline") ?? t("processid"))
        case "mailbox":
            out.add(.mailbox, t("mailboxprimaryaddress") ?? t("upn"))
        case "security-group":
            out.add(.securityGroup, t("distinguishedname") ?? t("sid") ?? t("objectguid"))
        default:
            return
        }
    }

    static func indexIds(_ v: JSONValue, into byId: inout [String: JSONValue], depth: Int) {
        guard depth < 16 else { return }
        switch v.type {
        case .object:
            if let id = v["$id"]?.scalarText, byId[id] == nil { byId[id] = v }
            for child in v.children where child.isContainer { indexIds(child, into: &byId, depth: depth + 1) }
        case .array:
            for child in v.children where child.isContainer { indexIds(child, into: &byId, depth: depth + 1) }
        default:
            return
        }
    }

    /// The machine a Defender alert is about: the compromised entity when it is a name (not an
    /// ARM id), else the name of a virtual machine resource.
    static func compromisedHost(_ event: Event) -> String? {
        let root = event.record.root
        let props = root["properties"].flatMap { $0.type == .object ? $0 : nil }
        if let entity = (props?["compromisedEntity"] ?? root["CompromisedEntity"]).flatMap(FieldText.text),
           !entity.hasPrefix("/") {
            return entity
        }
        if let r = event.resource, let type = r.type, FieldText.lowercasedASCII(type).hasSuffix("/virtualmachines") {
            return r.name
        }
        return nil
    }

    static func looksLikeIP(_ s: String) -> Bool {
        var digits = 0
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digits += 1
            case UInt8(ascii: "a")...UInt8(ascii: "f"), UInt8(ascii: "A")...UInt8(ascii: "F"), UInt8(ascii: "."), UInt8(ascii: ":"): continue
            default: return false
            }
        }
        return digits > 0
    }
}

/// Ordered, de-duplicated entities.
struct EntitySet {
    private(set) var entities: [Entity] = []
    private var seen: Set<String> = []

    mutating func add(_ kind: Entity.Kind, _ value: String?) {
        guard let value, !value.isEmpty else { return }
        add(Entity(kind: kind, value: value))
    }

    mutating func add(_ entity: Entity) {
        if seen.insert(entity.key).inserted { entities.append(entity) }
    }

    mutating func add(contentsOf list: [Entity]) { for e in list { add(e) } }
}
