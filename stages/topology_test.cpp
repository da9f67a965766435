// placeholder until this stage's tests land
