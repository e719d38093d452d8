// EventTypes: every event type the library emits itself, in one list. docs/event-schema.md documents
// each (tests/docs/check_event_schema.sh checks that the two agree).

enum EventTypes {
    static let sessionStart: StaticString = "session.start"
    static let sessionEnd: StaticString = "session.end"
    static let turnComplete: StaticString = "turn.complete"
    static let message: StaticString = "message"
    static let stepStart: StaticString = "step.start"
    static let stepEnd: StaticString = "step.end"
    static let rewardOutcome: StaticString = "reward.outcome"
    static let rewardEvent: StaticString = "reward.event"
    static let interruption: StaticString = "interruption"
    static let usage: StaticString = "usage"
    static let health: StaticString = "telemetry.health"
}
