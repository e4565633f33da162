/** apache-md5 ships no types: it hashes `password` with the salt of `saltOrHash` (or a random one) as Apache's $apr1$. */
declare module 'apache-md5' {
  function apacheMd5(password: string, saltOrHash?: string): string;
  export = apacheMd5;
}
