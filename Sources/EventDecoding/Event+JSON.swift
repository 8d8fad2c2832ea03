// How an event looks to a person: the raw record with a `vigil` object in front holding the typed
// fields. That is exactly what rules address (`vigil.*` for typed fields, raw paths for the rest),
// so `vigil events` output doubles as the reference for writing rules.
import EventModel
import FastJSON

extension Event {
    /// `{"vigil":{"kind":…,"shape":…,"time":…,…,"resource":{"id":…,…}},…raw record members…}`.
    /// A record that is not an object appears under `"record"`.
    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        w.key("vigil")
        writeTypedFields(to: &w)
        let root = record.root
        if root.type == .object {
            if root.count > 0 {
                w.comma()
                w.writeMembers(of: root)
            }
        } else {
            w.comma()
            w.key("record")
            w.write(root)
        }
        w.endObject()
    }

    /// Only `paths`, as a flat object keyed by each path as given: one value as itself, several as
    /// an array, none as null.
    public func writeFields(_ paths: [FieldPath], to w: inout JSONWriter) {
        w.beginObject()
        var first = true
        for path in paths {
            w.field(path.text, first: &first)
            let values = values(at: path)
            switch values.count {
            case 0: w.raw("null")
            case 1: Self.write(values[0], to: &w)
            default:
                w.beginArray()
                for (n, v) in values.enumerated() {
                    if n > 0 { w.comma() }
                    Self.write(v, to: &w)
                }
                w.endArray()
            }
        }
        w.endObject()
    }

    private static func write(_ value: FieldValue, to w: inout JSONWriter) {
        switch value {
        case .json(let v): w.write(v)
        case .text(let s): w.writeString(s)
        }
    }

    /// The typed fields that are set, in `TypedField` order, resource parts grouped as an object.
    private func writeTypedFields(to w: inout JSONWriter) {
        w.beginObject()
        var first = true
        for field in TypedField.allCases {
            switch field {
            case .resourceId:
                guard let resource else { continue }
                w.field("resource", first: &first)
                w.beginObject()
                var inner = true
                let parts: [(String, String?)] = [
                    ("id", resource.raw), ("subscription", resource.subscription), ("group", resource.resourceGroup),
                    ("provider", resource.provider), ("type", resource.type), ("name", resource.name),
                ]
                for case let (key, value?) in parts {
                    w.field(key, first: &inner)
                    w.writeString(value)
                }
                w.endObject()
            case .subscription, .resourceGroup, .provider, .resourceType, .resourceName:
                continue
            default:
                guard let value = typedValue(field), let text = value.text else { continue }
                w.field(field.displayName, first: &first)
                w.writeString(text)
            }
        }
        w.endObject()
    }
}
