/** The edge's version, as its status answers name it (`edgeledger-edge/<version>`). */
export const EDGE_VERSION = "0.1.0";
