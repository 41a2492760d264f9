/**
 * Proven by the type checker (`npm run lint`), never run: each type of
 * types.ts is exactly what its schema in routes.ts describes. A field added,
 * made optional or retyped on one side and not the other fails to compile.
 */
import type {
  accountSchema,
  blockSchema,
  certificateSchema,
  certifiedHeaderSchema,
  errorSchema,
  evidenceSchema,
  genesisSchema,
  headerSchema,
  healthSchema,
  nodeHealthSchema,
  receiptSchema,
  statusSchema,
  submitTransactionRequestSchema,
  submitTransactionResponseSchema,
  submitTransactionsRequestSchema,
  submitTransactionsResponseSchema,
  transactionBodySchema,
  transactionSchema,
  transactionStatusSchema,
  validatorsSchema,
} from "./routes.ts";
import type { FromSchema, Same } from "./schemaType.ts";
import type {
  AccountJson,
  BlockJson,
  CertificateJson,
  CertifiedHeaderJson,
  ErrorJson,
  EvidenceJson,
  GenesisJson,
  HeaderJson,
  HealthJson,
  NodeHealthJson,
  ReceiptJson,
  StatusJson,
  SubmitTransactionRequest,
  SubmitTransactionResponse,
  SubmitTransactionsRequest,
  SubmitTransactionsResponse,
  TransactionBodyJson,
  TransactionJson,
  TransactionStatusJson,
  ValidatorsJson,
} from "./types.ts";

type Holds<T extends true> = T;
type Evidence = FromSchema<typeof evidenceSchema>;

export type Proofs = [
  Holds<Same<HeaderJson, FromSchema<typeof headerSchema>>>,
  Holds<Same<CertificateJson, FromSchema<typeof certificateSchema>>>,
  Holds<Same<CertifiedHeaderJson, FromSchema<typeof certifiedHeaderSchema>>>,
  Holds<Same<TransactionBodyJson, FromSchema<typeof transactionBodySchema>>>,
  Holds<Same<TransactionJson, FromSchema<typeof transactionSchema>>>,
  Holds<Same<SubmitTransactionRequest, FromSchema<typeof submitTransactionRequestSchema>>>,
  Holds<Same<SubmitTransactionResponse, FromSchema<typeof submitTransactionResponseSchema>>>,
  Holds<Same<SubmitTransactionsRequest, FromSchema<typeof submitTransactionsRequestSchema>>>,
  Holds<Same<SubmitTransactionsResponse, FromSchema<typeof submitTransactionsResponseSchema>>>,
  Holds<Same<ReceiptJson, FromSchema<typeof receiptSchema>>>,
  Holds<Same<TransactionStatusJson, FromSchema<typeof transactionStatusSchema>>>,
  Holds<Same<AccountJson, FromSchema<typeof accountSchema>>>,
  // JSON Schema draft 7 has no tuple the OpenAPI document can carry: the
  // pair of block hashes is an array of two there, a tuple here.
  Holds<Same<Omit<EvidenceJson, "blockHashes">, Omit<Evidence, "blockHashes">>>,
  Holds<EvidenceJson["blockHashes"] extends Evidence["blockHashes"] ? true : false>,
  Holds<Same<Omit<BlockJson, "evidence">, Omit<FromSchema<typeof blockSchema>, "evidence">>>,
  Holds<Same<GenesisJson, FromSchema<typeof genesisSchema>>>,
  Holds<Same<ValidatorsJson, FromSchema<typeof validatorsSchema>>>,
  Holds<Same<StatusJson, FromSchema<typeof statusSchema>>>,
  Holds<Same<HealthJson, FromSchema<typeof healthSchema>>>,
  Holds<Same<NodeHealthJson, FromSchema<typeof nodeHealthSchema>>>,
  Holds<Same<ErrorJson, FromSchema<typeof errorSchema>>>,
];
