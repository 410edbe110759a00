// @auditrail/http entry point (being built).
export {};
