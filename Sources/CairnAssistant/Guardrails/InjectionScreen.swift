import CairnCore
import Foundation

/// Screens text for prompt injection: instructions aimed at the model rather than information
/// for the reader. It runs on the question and on every retrieved passage.
///
/// A flagged passage is still evidence — a policy may quote an attack to warn about it — so it
/// is not dropped, but the answer's trace marks it. The model only ever sees passages fenced as
/// untrusted data (``AnswerPrompt``), and nothing a passage says can add a tool or skip an
/// approval; the screen is what makes an attempt visible to the people who review answers.
///
/// The signals are patterns of the known attack families (overriding earlier instructions,
/// taking on a new role, exposing the instructions, breaking out of the data fence, steering
/// tool calls); a text is flagged on one strong signal or two weak ones.
public struct InjectionScreen: Sendable {
    public struct Verdict: Sendable, Equatable {
        /// The signals found, by name (e.g. `override`, `role`), in the order checked.
        public let signals: [String]
        public let flagged: Bool

        /// The guardrail decision a trace records about `subject` (`question`, `goal`,
        /// `passage <chunk id>`), naming the signals; `nil` when nothing was flagged.
        public func decision(about subject: String) -> AnswerTrace.GuardrailDecision? {
            guard flagged else { return nil }
            return AnswerTrace.GuardrailDecision(check: "injection", subject: subject, decision: "flagged", detail: signals.joined(separator: ", "))
        }
    }

    public init() {}

    public func screen(_ text: String) -> Verdict {
        // Most passages are plain prose: the first pass only looks for the trigger words.
        let lowered = text.lowercased()
        guard Self.triggers.contains(where: lowered.contains) else { return Verdict(signals: [], flagged: false) }
        let range = NSRange(lowered.startIndex..., in: lowered)
        var signals: [String] = []
        var weight = 0
        for signal in Self.signals where signal.pattern.firstMatch(in: lowered, range: range) != nil {
            signals.append(signal.name)
            weight += signal.strong ? 2 : 1
        }
        return Verdict(signals: signals, flagged: weight >= 2)
    }

    private struct Signal: Sendable {
        let name: String
        let pattern: NSRegularExpression
        /// A strong signal flags on its own; weak ones need company.
        let strong: Bool

        init(_ name: String, strong: Bool, _ pattern: String) {
            self.name = name
            self.strong = strong
            // The patterns are constants, each exercised by the tests.
            self.pattern = try! NSRegularExpression(pattern: pattern)
        }
    }

    /// Words at least one signal needs; text with none of them is not examined further.
    private static let triggers = [
        "ignore", "disregard", "forget", "override", "instruction", "you are", "act as", "pretend", "from now on", "system",
        "developer mode", "jailbreak", "prompt", "reveal", "</", "<|", "[inst]", "###", "tool", "function", "call", "execute", "approve",
        "reply", "respond", "output", "answer", "print", "say", "focus", "user", "assistant", "end of", "[system]", "note", "message", "notice",
        "automated", "analysis", "screening", "visible", "readable", "model", "llm", "ai",
    ]

    private static let signals: [Signal] = [
        Signal(
            "override",
            strong: true,
            #"\b(ignore|disregard|forget|override|bypass)\b[^.\n]{0,40}\b(previous|prior|above|earlier|preceding|all|any|your|the)\b[^.\n]{0,20}\b(instructions?|directions?|rules|prompts?|guidelines|context|messages?)\b"#
        ),
        Signal("new-instructions", strong: true, #"\b(new|updated|real|actual)\s+(system\s+)?instructions?\s*[:\-]"#),
        Signal("role", strong: false, #"\b(you are now|from now on,? you|act as (an? )?|pretend (to be|you are)|roleplay as|you must now)\b"#),
        Signal("jailbreak", strong: true, #"\b(developer mode|jailbreak|do anything now|dan mode|no restrictions|unrestricted mode)\b"#),
        Signal(
            "exfiltration",
            strong: true,
            #"\b(reveal|print|show|repeat|output|leak)\b[^.\n]{0,30}\b(system prompt|your (instructions|prompt|rules)|the (text|words|instructions) above|hidden instructions)\b"#
        ),
        Signal(
            "fence",
            strong: true,
            #"(</\s*(source|system|instructions?|context)\s*>|<\|im_(start|end)\|>|\[/?inst\]|^\s*###\s*(system|assistant|instruction))"#
        ),
        Signal("system-voice", strong: false, #"\b(system|assistant)\s*:\s"#),
        // A dialogue written into the data: a turn by the assistant or the system, then the user's.
        Signal("forged-turns", strong: true, #"\b(assistant|system)\s*:[\s\S]{0,600}?\buser\s*:"#),
        Signal(
            "reply-only",
            strong: true,
            #"\b(reply|respond|answer|output|print)\b[^.\n]{0,25}\b(only|exactly|simply|just)\b[^.\n]{0,30}\b(following|text|words?|brackets|phrase|string)\b|\b(simply|only|just) (respond|reply|answer|say|print|output)\s*(with|that|:)"#
        ),
        Signal("if-asked", strong: false, #"\bif (the )?(user|anyone|someone) (asks?|requests?)\b"#),
        Signal(
            "disregard-data",
            strong: true,
            #"\b(ignore|disregard)\b[^.\n]{0,30}\b(all|any|other|the rest|them|everything|negative)\b[^.\n]{0,30}\b(info|information|data|content|text|indicators|snippets|documents?)\b"#
        ),
        Signal("focus-only", strong: false, #"\bfocus (only|exclusively|solely)\b"#),
        Signal(
            "addressed-to-model",
            strong: true,
            #"\b(note|message|notice|instructions?) (to|for) (the )?(automated|ai|llm|language model|assistant|analysis|screening)\b|\b(visible|readable) to (the )?(llm|ai|language models?)\b|\bautomated (screening|analysis) (systems?|software)\b"#
        ),
        Signal("session-break", strong: true, #"<\s*end of (session|conversation|document|context)\s*>|\[system\]"#),
        Signal("override-output", strong: true, #"\boverride\b[^.\n]{0,30}\b(scoring|output|evaluation|assessment|decision|review)\b"#),
        Signal(
            "tool-steering",
            strong: false,
            #"\b(call|invoke|use|run|execute|trigger)\b[^.\n]{0,20}\b(the )?(tool|function|propose_document_review|api)\b|\bwithout (asking for )?(approval|confirmation)\b|\bauto-?approve\b"#
        ),
    ]
}
