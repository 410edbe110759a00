// @auditrail/cli entry point (being built).
export {};
