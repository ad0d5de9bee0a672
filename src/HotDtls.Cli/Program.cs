Console.WriteLine("hotdtls");
