export * from './certificate-dir';
export * from './self-signed-certificate';
