// @auditrail/express entry point (being built).
export {};
