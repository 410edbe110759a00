// @auditrail/nats entry point (being built).
export {};
