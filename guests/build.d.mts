export declare const SOURCE_DIR: string;
export declare const INCLUDE_DIR: string;
export declare const BUILD_DIR: string;
/** Assembles stale guests; returns guest name -> path of its .bin. */
export declare function buildGuests(options?: { force?: boolean; quiet?: boolean }): Record<string, string>;
