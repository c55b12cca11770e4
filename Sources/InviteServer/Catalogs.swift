import Foundation
public import InviteService

/// The catalogs shipped in `Resources/i18n/`, one JSON file per language, read once.
public enum Catalogs {
    public static let all: [Language: Catalog] = {
        var catalogs: [Language: Catalog] = [:]
        for language in Language.allCases {
            guard let url = Bundle.module.url(forResource: language.rawValue, withExtension: "json", subdirectory: "Resources/i18n"),
                let data = try? Data(contentsOf: url)
            else { fatalError("catalog \(language.rawValue).json is missing from the InviteServer bundle") }
            do {
                catalogs[language] = try Catalog(language: language, json: data)
            } catch {
                fatalError("catalog \(language.rawValue).json cannot be read: \(error)")
            }
        }
        return catalogs
    }()

    public static subscript(_ language: Language) -> Catalog { all[language]! }
}
