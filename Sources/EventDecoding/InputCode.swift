/// Stable diagnostic codes for input problems. Scripts and tests match on these, so they never
/// change meaning; new cases get new codes.
public enum InputCode {
    /// A record (line, array element, document) is not valid JSON.
    public static let malformedJSON = "input.malformed-json"
    /// A record holds bytes that are not UTF-8.
    public static let invalidUTF8 = "input.invalid-utf8"
    /// The gzip stream stops inside a member.
    public static let truncatedGzip = "input.truncated-gzip"
    /// zlib rejected the data, or non-gzip bytes follow a member.
    public static let corruptGzip = "input.corrupt-gzip"
    /// Binary bytes (NUL, many control characters) where text was expected.
    public static let binary = "input.binary"
    /// A line (or array element, or document) longer than the limit; skipped without buffering it.
    public static let lineTooLong = "input.line-too-long"
    /// A record the normaliser does not recognise (reported by the normaliser).
    public static let unknownShape = "input.unknown-shape"
    /// A CSV row that cannot be mapped onto the header, or an unterminated quoted cell.
    public static let csv = "input.csv"
    /// Text that is none of the supported formats (JSON, JSON lines, CSV, gzip of those).
    public static let unknownFormat = "input.unknown-format"
    /// A note: a REST-spec example whose 2xx responses carry no body (`"204": {}`): it holds no record.
    public static let noRecord = "input.no-record"
    /// A path that does not exist, or a file that cannot be opened or read.
    public static let notFound = "input.not-found"
    public static let unreadable = "input.unreadable"
    public static let readError = "input.read-error"
}
