// Placeholder until the foundation lands: the demo grows with the product.
process.stdout.write('ppp-laplink demo: nothing to show yet\n');
