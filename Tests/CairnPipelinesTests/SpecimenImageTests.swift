import CairnIngest
import CairnPipelines
import CairnTestSupport
import Foundation
import Testing

/// The `mrz` development set: photographed specimen pages, read by MuPDF and Tesseract.
@Suite("Specimen travel documents")
struct SpecimenImageTests {
    @Test("Both specimen images read with every check digit valid", arguments: ["passport-td2", "passport-td3"])
    func specimen(_ name: String) async throws {
        let set = SharedData.folder("extraction-dev/mrz")
        let file = set.appendingPathComponent("documents/\(name).png")
        let format = try DocumentFormat.detect(fileAt: file, declaredName: file.lastPathComponent, declaredMediaType: nil)
        #expect(format == .png)
        let document = try await DocumentParser().parse(contentsOf: file, format: format)
        let page = try #require(document.pages.first)
        #expect(page.source == .ocr)
        let lines = try #require(MachineReadableZone.candidates(in: page.text).first, "no zone in:\n\(page.text)")
        let zone = try #require(MachineReadableZone(lines: lines), "\(lines)")
        #expect(zone.isValid, "\(zone)")
        let labels = try JSONDecoder().decode([String: String].self, from: Data(contentsOf: set.appendingPathComponent("labels/\(name).json")))
        #expect(zone.format.rawValue == labels["mrz_type"] && zone.documentType.value == labels["document_type"])
        #expect(zone.issuingCountry.value == labels["issuing_country"] && zone.nationality.value == labels["nationality"])
        #expect(zone.sex.value == labels["sex"])
        #expect(zone.documentNumber.value == labels["document_number"])
        #expect(zone.dateOfBirth.value == labels["date_of_birth"])
        #expect(zone.expiryDate.value == labels["expiry_date"])
        #expect(zone.surname.value == labels["surname"] && zone.givenNames.value == labels["given_names"], "\(lines)")
    }
}
