// @auditrail/winston entry point (being built).
export {};
