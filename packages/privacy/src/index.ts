export { openValue, sealValue } from "./cipher.js";
export { type DataKey, type KeyScope, newDataKey, type SubjectKeyStore, scopeName } from "./key-store.js";
export { createPersonalData, type PersonalData, type PersonalDataOptions } from "./personal-data.js";
export { createSqliteKeyStore, type SqliteKeyStoreOptions } from "./sqlite-key-store.js";
