// @auditrail/grpc entry point (being built).
export {};
