// @auditrail/postgres entry point (being built).
export {};
